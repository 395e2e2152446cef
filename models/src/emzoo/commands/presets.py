"""``emzoo presets``: list every preset (paper configurations and small demo nets)."""

from __future__ import annotations

import argparse
import json

NAME = "presets"
HELP = "list the network presets: task, variant, paper or demo, parameters, train shapes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def _rows() -> list[dict]:
    from emzoo.nets.shapes import check_input_shape, parameter_count
    from emzoo.registry import list_presets

    rows = []
    for p in list_presets():
        rows.append(
            {
                "name": p.name,
                "task": p.task,
                "variant": p.variant,
                "paper": p.paper,
                "parameters": parameter_count(p),
                "train_input_shape": list(p.train_input_shape),
                "train_output_shape": list(check_input_shape(p, p.train_input_shape)),
                "voxel_size_nm": list(p.voxel_size_nm),
                "output_channels": list(p.output_channel_names),
                "description": p.description,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = _rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "task", "variant", "paper", "params", "train in -> out", "voxel nm")
    table = [
        (
            r["name"],
            r["task"],
            r["variant"],
            "paper" if r["paper"] else "demo",
            f"{r['parameters'] / 1e6:.2f} M",
            f"{'x'.join(map(str, r['train_input_shape']))} -> "
            f"{'x'.join(map(str, r['train_output_shape']))}",
            "x".join(f"{v:g}" for v in r["voxel_size_nm"]),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0
