"""Command-line dispatcher: every module in ``emzoo.commands`` is one subcommand.

A command module defines ``NAME`` (str), ``HELP`` (str), ``add_arguments(parser)`` and
``run(args) -> int``. Discovering them here keeps this file a thin dispatcher.
"""

from __future__ import annotations

import os
import platform

# Before numpy loads: `emzoo synth` takes its geometry's vector norms and dot products through
# numpy's OpenBLAS, whose kernels round the last bit differently per CPU family (AVX2 vs AVX-512),
# and one flipped comparison changes every later random draw, so the same seed gave another volume
# on another CPU (docs/data.md, "Same seed, same volume"). The CLI pins OpenBLAS's AVX2 (Haswell)
# kernels on x86-64; an OPENBLAS_CORETYPE already set wins.
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from emzoo import commands
from emzoo.errors import EmzooError


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        yield importlib.import_module(f"emzoo.commands.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emzoo",
        description="PyTorch ports of LSD, Synful, Synister and Micron: describe, train, export.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except EmzooError as err:
        print(f"emzoo {args.command}: error: {err}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
