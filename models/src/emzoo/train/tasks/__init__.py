"""Task pipelines: preset + training data → Task (model, gunpowder batches, loss terms)."""

from __future__ import annotations

from pathlib import Path

import torch

from emzoo.augment.profiles import DEFAULT_PROFILE
from emzoo.errors import InvalidInput
from emzoo.preset import Preset
from emzoo.train.config import TrainConfig
from emzoo.train.distributed import DistEnv, mix_seed
from emzoo.train.task import Task

TASKS = ("lsd", "synful", "synister", "micron")
# samples per step and process when --batch-size is not given: the originals' batch sizes
DEFAULT_BATCH_SIZE = {"lsd": 1, "synful": 1, "synister": 8, "micron": 1}


def build_task(
    preset: Preset,
    data: str | Path | list[str | Path],
    env: DistEnv,
    cfg: TrainConfig,
    augment: str = DEFAULT_PROFILE,
    stage1: str | Path | None = None,
    micron_foreground_weight: float | None = None,
) -> Task:
    """The task pipeline for ``preset.task`` on ``data`` (one volume, or a list laid side by
    side: emzoo.data.mosaic); the data stream is seeded per rank.

    ``augment``: an augmentation profile (emzoo.augment.profiles.PROFILES); ``stage1``: the
    stage-1 LSD checkpoint or bundle of an autocontext preset; ``micron_foreground_weight``:
    Micron's loss only (emzoo.losses.micron_weights)."""
    import importlib

    from emzoo.augment.profiles import check_profile
    from emzoo.train.tasks.common import load_volumes

    check_profile(augment)
    extra = {}
    if micron_foreground_weight is not None:
        if preset.task != "micron":
            raise InvalidInput(
                f"a Micron foreground weight was given for {preset.name}, a {preset.task} preset",
                hint="drop --micron-foreground-weight: it sets Micron's loss only",
            )
        extra["foreground_weight"] = float(micron_foreground_weight)
    volume = load_volumes(data, preset)
    module = importlib.import_module(f"emzoo.train.tasks.{preset.task}")
    # data workers are forked processes, which must not touch CUDA: they augment on the CPU
    device = env.device if cfg.workers == 0 else torch.device("cpu")
    task = module.build(
        preset,
        volume,
        env,
        mix_seed(cfg.seed, 0x5EED),
        cfg.batch_size,
        device,
        augment=augment,
        stage1=None if stage1 is None else str(stage1),
        **extra,
    )
    paths = [str(data)] if isinstance(data, (str, Path)) else [str(p) for p in data]
    task.record.setdefault("data", paths[0] if len(paths) == 1 else paths)
    task.record.setdefault("task_kind", preset.task)
    synthetic = volume.attrs.get("generator") == "emzoo.data.synth"
    task.record.setdefault("synthetic", synthetic)
    if synthetic:
        a = volume.attrs
        parts = a["mosaic"]["volumes"] if "mosaic" in a else [a]
        seeds = ", ".join(str(p.get("seed")) for p in parts)
        shapes = sorted({tuple(p.get("shape") or volume.shape) for p in parts})
        what = (
            f"volume from `emzoo synth` (seed {seeds}"
            if len(parts) == 1
            else f"volumes from `emzoo synth` ({len(parts)}: seeds {seeds}"
        )
        task.record.setdefault(
            "data_description",
            f"synthetic {a.get('mode')} EM {what}, shape "
            f"{', '.join(str(s) for s in shapes)}, generator version "
            f"{parts[0].get('generator_version', a.get('generator_version'))})",
        )
    task.record.setdefault("data_shape", list(volume.shape))
    task.record.setdefault("voxel_size_nm", list(volume.voxel_size))
    return task


def task_factory(
    preset: Preset,
    data: str | Path | list[str | Path],
    augment: str = DEFAULT_PROFILE,
    stage1: str | Path | None = None,
    micron_foreground_weight: float | None = None,
):
    """A TaskFactory for emzoo.train.train."""

    def make(env: DistEnv, cfg: TrainConfig) -> Task:
        return build_task(
            preset,
            data,
            env,
            cfg,
            augment=augment,
            stage1=stage1,
            micron_foreground_weight=micron_foreground_weight,
        )

    return make
