"""emzoo export --preset NAME [--checkpoint FILE] --out weights/ID"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "export"
HELP = "export a preset (+ checkpoint) to a checked bundle folder: ONNX, TorchScript, state dict, bundle.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", required=True, help="preset name (`emzoo presets` lists them)")
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="bundle folder to create, e.g. weights/lsd-small-mtlsd",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        help="torch checkpoint (state dict or gunpowder dict); omitted = untrained",
    )
    p.add_argument("--id", dest="bundle_id", help="model id (default: the --out folder name)")
    p.add_argument(
        "--test-k",
        type=int,
        default=None,
        help="test input size = valid_min + k·valid_step (default: smallest k with a >= 16 voxel "
        "output per growing axis, input <= 4 M voxels)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the random init and test texture (default 0)"
    )
    p.add_argument(
        "--opset", type=int, default=18, choices=(17, 18), help="ONNX opset (default 18)"
    )
    p.add_argument(
        "--onnx-exporter",
        choices=("dynamo", "legacy"),
        default="dynamo",
        help="torch.onnx exporter (default dynamo)",
    )
    p.add_argument(
        "--skip-size-check",
        action="store_true",
        help="skip the k = 0..2 x batch 1..2 check (large networks)",
    )
    p.add_argument("--license", default="MIT", help="SPDX license id of the weights (default MIT)")
    p.add_argument(
        "--author", action="append", help="author name (repeatable; default 'emzoo contributors')"
    )
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    p.add_argument(
        "--recalibrate-bn",
        nargs="+",
        type=Path,
        default=[],
        metavar="VOLUME",
        help="recompute BatchNorm statistics on clean crops at the presynaptic sites of these "
        "(training) volumes before export; training leaves them at augmented batches' (Synister)",
    )


def run(args: argparse.Namespace) -> int:
    from emzoo.export import ExportOptions, export_bundle
    from emzoo.registry import get_preset

    get_preset(args.preset)  # unknown names fail here, before the untrained warning
    if args.checkpoint is None:
        print(
            f"warning: no --checkpoint: exporting an UNTRAINED {args.preset} (random weights, trained: false); "
            "use it for structure checks only",
            file=sys.stderr,
        )
    opts = ExportOptions(
        preset=args.preset,
        out=args.out,
        checkpoint=args.checkpoint,
        bundle_id=args.bundle_id,
        test_k=args.test_k,
        seed=args.seed,
        opset=args.opset,
        exporter=args.onnx_exporter,
        size_check=not args.skip_size_check,
        force=args.force,
        license=args.license,
        recalibrate_bn=list(args.recalibrate_bn),
    )
    if args.author:
        opts.authors = [{"name": a} for a in args.author]
    bundle = export_bundle(opts, progress=lambda msg: print(msg, flush=True))
    rt = bundle["roundtrip"]
    print(
        f"wrote {args.out} ({bundle['id']}): max abs error onnx {rt['onnx']['max_abs']:.2e}, "
        f"torchscript {rt['torchscript']['max_abs']:.2e}, state dict {rt['state_dict']['max_abs']:.2e}"
    )
    return 0
