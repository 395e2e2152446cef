"""The training loop: single device, or one process per GPU/CPU under torchrun with DDP.

Determinism (what makes ``--resume`` continue the same loss trajectory): every iteration reseeds
torch from (seed, rank, iteration) and the task's batch provider is a pure function of the
iteration, so nothing depends on how many steps ran in this process. Only rank 0 writes.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from emzoo.export.checkpoint import load_weights_into
from emzoo.train.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    restore_rng_states,
    save_checkpoint,
)
from emzoo.train.config import TrainConfig
from emzoo.train.distributed import DistEnv, init_distributed, mix_seed, shutdown
from emzoo.train.health import ConstantOutputWatch
from emzoo.train.record import bundle_training
from emzoo.train.scalar_log import ScalarLog
from emzoo.train.task import Heads, Task, total_loss

TaskFactory = Callable[[DistEnv, TrainConfig], Task]
HISTORY_KEPT = 1000  # logged rows kept in the training record


@dataclass
class TrainResult:
    start_iteration: int
    losses: list[float]  # this rank's total loss per iteration run in this call
    record: dict
    checkpoint: Path | None
    model: torch.nn.Module
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)


class _Iterations(torch.utils.data.Dataset):
    """Index = iteration; the task's batch function is a pure function of it, so workers can
    make batches in any process and order and the loader hands them back in order."""

    def __init__(self, batches) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, it: int):
        return self.batches(int(it))


def _batch_stream(task: Task, start: int, end: int, workers: int):
    if workers == 0:
        for it in range(start, end):
            yield task.batches(it)
        return
    # fork: workers inherit the built pipeline and the in-memory volume (no pickling)
    loader = torch.utils.data.DataLoader(
        _Iterations(task.batches),
        batch_size=None,
        sampler=range(start, end),
        num_workers=workers,
        multiprocessing_context="fork",
        prefetch_factor=2,
        timeout=900,  # a stuck worker fails the run instead of hanging it
    )
    yield from loader


def _to_device(batch, device: torch.device) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in batch.items():
        t = (
            torch.from_numpy(np.ascontiguousarray(v))
            if isinstance(v, np.ndarray)
            else torch.as_tensor(v)
        )
        if t.is_floating_point():
            t = t.float()
        out[k] = t.to(device, non_blocking=True)
    return out


def _mean_over_ranks(values: list[float], env: DistEnv) -> list[float]:
    if not env.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=env.device)
    dist.all_reduce(t)
    return (t / env.world_size).tolist()


def train(make_task: TaskFactory, cfg: TrainConfig, preset: str) -> TrainResult:
    env = init_distributed(cfg.device)
    task = log = None
    try:
        # identical initial weights on every rank (DDP would broadcast rank 0's anyway)
        torch.manual_seed(cfg.seed)
        task = make_task(env, cfg)
        resume_from = latest_checkpoint(cfg.out) if cfg.resume else None
        initialised_from = None
        if cfg.init_from is not None and resume_from is None:
            # every rank loads the same file: identical starting weights, as with a seed
            initialised_from = load_weights_into(task.model, cfg.init_from, preset, "--init-from")
            if env.is_main:
                print(
                    f"weights from {cfg.init_from} (sha256 {initialised_from['sha256'][:12]})",
                    flush=True,
                )
        model = task.model.to(env.device)
        runner: torch.nn.Module = Heads(model)
        if env.distributed:
            ids = [env.device.index] if env.device.type == "cuda" else None
            runner = DistributedDataParallel(runner, device_ids=ids)
        adam = task.optimizer.with_lr(cfg.lr)
        optimizer = torch.optim.Adam(model.parameters(), lr=adam.lr, betas=adam.betas, eps=adam.eps)

        labels = [t.label for t in task.terms]
        log = ScalarLog(
            cfg.out, ["loss", *labels, "lr", "seconds_per_iteration"], env.is_main, cfg.resume
        )
        start, history, seconds_before = 0, [], 0.0
        if resume_from is not None:
            # CPU first: RNG states must stay CPU tensors; load_state_dict moves the rest
            ckpt = load_checkpoint(resume_from, "cpu")
            model.load_state_dict(ckpt["model_state_dict"])
            optimizer.load_state_dict(ckpt["optimizer_state_dict"])
            restore_rng_states(ckpt["rng_states"])
            if cfg.lr is not None:  # an explicit --lr wins over the checkpoint's
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr
            start = int(ckpt["iteration"])
            previous = ckpt.get("training_record", {})
            history = list(previous.get("history", []))
            initialised_from = previous.get("initialised_from")
            seconds_before = float(previous.get("seconds_total", 0.0))
            log.truncate_after(start)
            if env.is_main:
                print(f"resuming from {resume_from} at iteration {start}", flush=True)

        record = {
            "preset": preset,
            "task": task.name,
            "world_size": env.world_size,
            "device": env.device.type,
            "optimizer": {
                "name": "Adam",
                "lr": adam.lr,
                "betas": list(adam.betas),
                "eps": adam.eps,
            },
            "config": cfg.as_record(),
            "tensorboard": log.tensorboard,
            **task.record,
        }
        if initialised_from is not None:
            record["initialised_from"] = initialised_from
        record.update(iterations=start, history=history)
        losses: list[float] = []
        watch = ConstantOutputWatch()
        ckpt_path = None
        t0 = tick = time.perf_counter()
        last_logged = start
        model.train()
        stream = _batch_stream(task, start, cfg.iterations, cfg.workers)
        for it, raw_batch in zip(range(start, cfg.iterations), stream, strict=True):
            torch.manual_seed(mix_seed(cfg.seed, env.rank, it))  # dropout etc.: same on resume
            batch = _to_device(raw_batch, env.device)
            heads = runner(batch[task.input_key])
            loss, parts = total_loss(task.terms, heads, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            step = it + 1
            if step % cfg.log_every == 0 or step == cfg.iterations:
                now = time.perf_counter()
                n, last_logged = step - last_logged, step
                vals = _mean_over_ranks(
                    [float(loss.detach()), *(float(p.detach()) for p in parts.values())], env
                )
                row = {"loss": vals[0], **dict(zip(labels, vals[1:], strict=True))}
                row.update(
                    lr=optimizer.param_groups[0]["lr"], seconds_per_iteration=(now - tick) / n
                )
                tick = now
                log.write(step, row)
                history.append({"iteration": step, **{k: row[k] for k in ["loss", *labels]}})
                del history[:-HISTORY_KEPT]  # the CSV has every row; checkpoints stay small
                if env.is_main:
                    print(f"iteration {step}: loss {vals[0]:.6g}", flush=True)
                warning = watch.update(step, heads, row["lr"])
                if warning is not None:
                    record.setdefault("warnings", []).append(warning)
                    if env.is_main:
                        print(warning, file=sys.stderr, flush=True)
            if step % cfg.save_every == 0 or step == cfg.iterations:
                seconds = time.perf_counter() - t0
                record.update(
                    iterations=step,
                    history=history,
                    final_loss=history[-1]["loss"] if history else None,
                    seconds=seconds,
                    iterations_per_second=(step - start) / seconds if seconds > 0 else None,
                    seconds_total=seconds_before + seconds,
                )
                if env.is_main:
                    training = bundle_training(record)
                    ckpt_path = save_checkpoint(
                        cfg.out, step, model, optimizer, preset, record, training
                    )
                    (Path(cfg.out) / "training.json").write_text(
                        json.dumps(record, indent=2, default=str)
                    )
                if env.distributed:
                    dist.barrier()
        return TrainResult(
            start, losses, record, ckpt_path, model, time.perf_counter() - t0, history
        )
    finally:
        if task is not None and task.close is not None:
            task.close()
        if log is not None:
            log.close()
        shutdown(env)
