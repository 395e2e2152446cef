"""emzoo validate-bundle DIR: schema + files + hashes + test tensor shapes (+ --run: ONNX reproduces)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "validate-bundle"
HELP = "re-check a bundle folder: bundle.yaml schema, files present, sha256, test tensors"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", type=Path, help="bundle folder, e.g. weights/lsd-small-mtlsd")
    p.add_argument(
        "--run", action="store_true", help="also run model.onnx on test_input.npy and compare"
    )


def run(args: argparse.Namespace) -> int:
    from emzoo.export import validate_bundle

    bundle = validate_bundle(args.folder, run=args.run)
    print(
        f"{args.folder}: valid bundle {bundle['id']} ({bundle['preset']}, trained: {bundle['trained']})"
    )
    return 0
