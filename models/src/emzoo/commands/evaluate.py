"""emzoo evaluate --bundle weights/ID --data held_out.zarr [--json] [--write]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "evaluate"
HELP = (
    "measure a bundle on a held-out volume (model.onnx tiled with onnxruntime; task metrics); "
    "--write stores them in bundle.yaml's training record"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from emzoo.evaluate.options import EvalOptions

    d = EvalOptions()
    p.add_argument("--bundle", required=True, type=Path, help="bundle folder, e.g. weights/ID")
    p.add_argument("--data", required=True, type=Path, help="held-out volume (.zarr, .n5, .hdf)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--write",
        action="store_true",
        help="write the metrics into bundle.yaml training.held_out_metrics (trained bundles)",
    )
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    p.add_argument(
        "--tune-on",
        type=Path,
        default=None,
        help="choose the task's threshold on this volume first (e.g. the training volume; "
        "never the held-out one): LSD --seg-threshold, Synful --synful-threshold, Micron "
        "--micron-threshold",
    )
    g = p.add_argument_group("LSD")
    g.add_argument("--seg-threshold", type=float, default=d.seg_threshold,
                   help=f"mean-affinity agglomeration threshold (default {d.seg_threshold})")  # fmt: skip
    g.add_argument("--min-seed-distance", type=int, default=d.min_seed_distance,
                   help=f"watershed seed maximum-filter size, voxels (default {d.min_seed_distance})")  # fmt: skip
    g = p.add_argument_group("Synful")
    g.add_argument("--synful-threshold", type=float, default=d.synful_threshold,
                   help=f"post-synaptic mask threshold (default {d.synful_threshold})")  # fmt: skip
    g.add_argument("--synful-min-score", type=float, default=d.synful_min_score,
                   help=f"drop components whose summed probability is lower (default {d.synful_min_score})")  # fmt: skip
    g.add_argument("--synful-distance", type=float, default=d.synful_distance_nm,
                   help=f"match when post and pre are both within this many nm (default {d.synful_distance_nm:g})")  # fmt: skip
    g = p.add_argument_group("Micron")
    g.add_argument("--micron-threshold", type=float, default=d.micron_threshold,
                   help=f"soft-mask threshold (default {d.micron_threshold})")  # fmt: skip
    g.add_argument("--micron-tolerance", type=float, default=d.micron_tolerance_nm,
                   help=f"distance to a track that still counts, nm (default {d.micron_tolerance_nm:g})")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from emzoo.errors import InvalidInput
    from emzoo.evaluate import EvalOptions, evaluate_bundle, write_held_out_metrics

    if args.threads is not None and args.threads < 1:
        raise InvalidInput(f"--threads {args.threads} must be positive", hint="e.g. --threads 2")
    opts = EvalOptions(
        seg_threshold=args.seg_threshold,
        min_seed_distance=args.min_seed_distance,
        synful_threshold=args.synful_threshold,
        synful_min_score=args.synful_min_score,
        synful_distance_nm=args.synful_distance,
        micron_threshold=args.micron_threshold,
        micron_tolerance_nm=args.micron_tolerance,
        threads=args.threads,
    )
    report = evaluate_bundle(args.bundle, args.data, opts, tune_on=args.tune_on)
    if args.write:
        write_held_out_metrics(args.bundle, report)
        report["written"] = str(args.bundle / "bundle.yaml")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        tuned = report.get("tuned")
        if tuned:
            chosen = ", ".join(f"{k} = {v:g}" for k, v in tuned["settings"].items())
            best = max(r[tuned["metric"]] for r in tuned["sweep"])
            worst = min(r[tuned["metric"]] for r in tuned["sweep"])
            print(
                f"{chosen} ({tuned['metric']} on {tuned['on']}; {len(tuned['sweep'])} settings "
                f"tried, {worst:.4g}..{best:.4g})"
            )
        print(f"{report['id']} ({report['task']}) on {report['held_out']}:")
        for k, v in report["metrics"].items():
            print(f"  {k:28s} {v:.4g}")
        if args.write:
            print(f"written to {report['written']}")
    return 0
