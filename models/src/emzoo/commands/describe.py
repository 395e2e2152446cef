"""``emzoo describe``: a preset's output shape, parameters and valid inputs, without weights."""

from __future__ import annotations

import argparse
import json

from emzoo.errors import InvalidInput

NAME = "describe"
HELP = "print a preset's output shape, parameter count and valid input sizes (no weights built)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", required=True, help="preset name (see `emzoo presets`)")
    parser.add_argument(
        "--input-shape",
        metavar="Z,Y,X",
        help="input size in voxels (default: the preset's training input)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def parse_shape(text: str) -> tuple[int, int, int]:
    parts = [p.strip() for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidInput(
            f"--input-shape {text!r} is not three positive integers",
            hint="write it as Z,Y,X, e.g. --input-shape 196,196,196",
        )
    return shape  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    from emzoo.nets.shapes import describe
    from emzoo.registry import get_preset

    preset = get_preset(args.preset)
    shape = parse_shape(args.input_shape) if args.input_shape else None
    info = describe(preset, shape)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"preset        {info['preset']} ({info['task']})")
    print(f"input shape   {tuple(info['input_shape'])} (z, y, x voxels; {preset.in_channels} ch)")
    out = tuple(info["output_shape"])
    kind = "classes" if info["output_kind"] == "classes" else "z, y, x voxels"
    print(f"output shape  {out} ({kind}; {len(info['output_channels'])} ch)")
    print(f"parameters    {info['parameters']:,} ({info['parameters'] / 1e6:.2f} M)")
    if info["halo"] is not None:
        print(f"halo          {tuple(info['halo'])} voxels per side (output = input - 2 * halo)")
    vmin, step = info["valid_input"]["min"], info["valid_input"]["step"]
    if any(step):
        print(f"valid input   {tuple(vmin)} + k * {tuple(step)} per axis")
    else:
        print(f"valid input   exactly {tuple(vmin)}")
    print(f"voxel size    {tuple(info['voxel_size_nm'])} nm")
    return 0
