"""``emzoo train``: train a preset on a zarr/N5/HDF5 volume; one device, or DDP under torchrun.

emzoo train --preset lsd-small-mtlsd --data synth.zarr --iterations 1000 --out runs/mtlsd
torchrun --nproc_per_node 4 -m emzoo train --preset ... --out ...   # one process per GPU
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emzoo.errors import EmzooError, InvalidInput

NAME = "train"
HELP = (
    "train a preset on a volume (checkpoints, CSV/TensorBoard logs, --resume, DDP under torchrun)"
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", required=True, help="preset name (see `emzoo presets`)")
    parser.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="training volume(s): .zarr, .n5 or CREMI .hdf/.h5; several are sampled by size "
        "(many volumes give many independent neurons, as Synister needs)",
    )
    parser.add_argument(
        "--iterations", type=_positive, required=True, help="train up to this iteration"
    )
    parser.add_argument(
        "--out", required=True, help="run folder: checkpoints/, train_log.csv, training.json"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=None,
        help="samples per step and process (default: the original's, 8 for Synister, else 1)",
    )
    parser.add_argument(
        "--lr", type=float, default=None, help="learning rate (default: the original's)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of weights init and data stream (default 0)"
    )
    parser.add_argument(
        "--save-every", type=_positive, default=1000, help="checkpoint interval (default 1000)"
    )
    parser.add_argument("--log-every", type=_positive, default=10, help="log interval (default 10)")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the latest checkpoint in --out"
    )
    parser.add_argument(
        "--device", default="auto", help="auto (GPU when present), cpu, cuda, cuda:N"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="data worker processes per rank (default 0: in the training loop, augmenting on "
        "the training device; with workers, augmentation runs on their CPUs)",
    )
    parser.add_argument("--threads", type=_positive, default=None, help="CPU threads per process")
    from emzoo.augment.profiles import DEFAULT_PROFILE

    parser.add_argument(
        "--augment",
        default=DEFAULT_PROFILE,
        help="augmentation profile: originals (gunpowder elastic/simple/intensity as the "
        "originals per dataset), kornia (TorchAugment in place of the elastic deformation), "
        "kornia-light (the pipelines before profiles existed), none "
        f"(default {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--init-from",
        default=None,
        help="start from these weights instead of a random init (a bundle folder such as "
        "weights/lsd-mtlsd-demo, an emzoo checkpoint or a state dict of the same network): "
        "fine-tune on your data; the optimiser starts fresh; --resume wins once --out has a "
        "checkpoint",
    )
    parser.add_argument(
        "--micron-foreground-weight",
        type=float,
        default=None,
        help="Micron presets: a fixed loss weight for track voxels (1 = plain MSE) instead of the "
        "originals' (the batch's foreground count), which makes the soft mask a band wherever "
        "a track is possible (docs/demo-weights.md)",
    )
    parser.add_argument(
        "--stage1",
        default=None,
        help="autocontext presets (e.g. lsd-small-acrlsd): checkpoint or bundle folder of the "
        "trained stage-1 LSD net, run frozen to make the LSD input channels",
    )


def _emzoo_cause(err: BaseException) -> EmzooError | None:
    """gunpowder wraps node errors in its own; surface ours (with its hint) if it is inside."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, EmzooError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def run(args: argparse.Namespace) -> int:
    import torch

    from emzoo.augment.profiles import check_profile
    from emzoo.registry import get_preset
    from emzoo.train import TrainConfig, train
    from emzoo.train.tasks import DEFAULT_BATCH_SIZE, task_factory

    preset = get_preset(args.preset)
    augment = check_profile(args.augment)
    if args.stage1 is not None and not Path(args.stage1).exists():
        raise InvalidInput(
            f"--stage1 {args.stage1} does not exist",
            hint="train the stage-1 LSD preset first and pass its checkpoint or bundle",
        )
    if args.init_from is not None and not Path(args.init_from).exists():
        raise InvalidInput(
            f"--init-from {args.init_from} does not exist",
            hint="pass a bundle folder (weights/<id>), an emzoo checkpoint or a state-dict file",
        )
    for path in args.data:
        if not Path(path).exists():
            raise InvalidInput(
                f"--data {path} does not exist", hint="write a volume with `emzoo synth`"
            )
    if args.lr is not None and not args.lr > 0:
        raise InvalidInput(f"--lr {args.lr} must be positive", hint="e.g. --lr 5e-5")
    if args.micron_foreground_weight is not None and not args.micron_foreground_weight > 0:
        raise InvalidInput(
            f"--micron-foreground-weight {args.micron_foreground_weight} must be positive",
            hint="e.g. --micron-foreground-weight 1 (plain MSE); omit it for the originals' count",
        )
    if args.workers < 0:
        raise InvalidInput(f"--workers {args.workers} must be 0 or more", hint="e.g. --workers 4")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(
        out=Path(args.out),
        iterations=args.iterations,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE[preset.task],
        lr=args.lr,
        seed=args.seed,
        save_every=args.save_every,
        log_every=args.log_every,
        resume=args.resume,
        device=args.device,
        workers=args.workers,
        init_from=None if args.init_from is None else Path(args.init_from),
    )
    try:
        data = args.data[0] if len(args.data) == 1 else args.data
        factory = task_factory(
            preset,
            data,
            augment=augment,
            stage1=args.stage1,
            micron_foreground_weight=args.micron_foreground_weight,
        )
        result = train(factory, cfg, preset.name)
    except EmzooError:
        raise
    except Exception as err:
        cause = _emzoo_cause(err)
        if cause is None:
            raise
        raise cause from err
    rec = result.record
    if rec.get("world_size", 1) == 1 or int(__import__("os").environ.get("RANK", "0")) == 0:
        ips = rec.get("iterations_per_second")
        speed = f", {ips:.3g} it/s" if ips else ""
        print(
            f"trained {preset.name} to iteration {rec.get('iterations')}{speed}; final loss {rec.get('final_loss')}"
        )
        if result.checkpoint is not None:
            print(f"checkpoint {result.checkpoint}")
    return 0
