"""emzoo convert-tf: an original TF1 checkpoint → a torch checkpoint of the matching preset."""

from __future__ import annotations

import argparse
import json

from emzoo.errors import InvalidInput

NAME = "convert-tf"
HELP = (
    "convert an original TensorFlow 1 checkpoint (LSD / Synful / Micron, "
    "'<name>_checkpoint_<iter>.index|data|meta') into a torch checkpoint for a preset"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", help="preset whose network the checkpoint was trained as")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="checkpoint prefix (e.g. train_net_checkpoint_400000), one of its files, "
        "or a folder with a 'checkpoint' index file",
    )
    p.add_argument("--out", help="torch checkpoint to write (e.g. mtlsd.pt)")
    p.add_argument(
        "--scope",
        help="outer TF variable scope of the network (default: detected from the variables)",
    )
    p.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="TORCH=TF",
        help="map a PyTorch head to the TF conv_pass name the original used "
        "(e.g. lsds=embedding); repeatable",
    )
    p.add_argument(
        "--list", action="store_true", help="only list the checkpoint's variables and shapes"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _heads(pairs: list[str]) -> dict[str, str]:
    heads = {}
    for pair in pairs:
        torch_name, sep, tf_name = pair.partition("=")
        if not sep or not torch_name or not tf_name:
            raise InvalidInput(
                f"--head {pair!r} is not TORCH=TF", hint="e.g. --head lsds=embedding"
            )
        heads[torch_name] = tf_name
    return heads


def run(args: argparse.Namespace) -> int:
    from emzoo.convert import convert_tf_checkpoint, read_checkpoint
    from emzoo.convert.tf_names import is_training_state

    if args.list:
        ckpt = read_checkpoint(args.checkpoint)
        if args.json:
            print(json.dumps({"checkpoint": ckpt.prefix, "variables": ckpt.shapes}, indent=2))
        else:
            for name in sorted(ckpt.shapes):
                state = "  (training state, skipped)" if is_training_state(name) else ""
                print(f"{name}  {list(ckpt.shapes[name])}{state}")
        return 0
    missing = [f"--{a}" for a in ("preset", "out") if not getattr(args, a)]
    if missing:
        raise InvalidInput(
            f"{' and '.join(missing)} required to convert",
            hint="emzoo presets lists the presets; use --list to only inspect the checkpoint",
        )
    meta = convert_tf_checkpoint(
        args.preset, args.checkpoint, args.out, scope=args.scope, head_names=_heads(args.head)
    )
    if args.json:
        print(json.dumps({"out": args.out, **meta}, indent=2))
    else:
        scope = meta["tf_scope"] or "(none)"
        print(
            f"wrote {args.out}: preset {meta['preset']}, {len(meta['variable_map'])} tensors "
            f"from {meta['tf_checkpoint']} (scope {scope}, {meta['tf_decoder_naming']} naming, "
            f"heads {meta['tf_heads']}; skipped {meta['skipped_tf_variables']} optimizer "
            "variables)"
        )
    return 0
