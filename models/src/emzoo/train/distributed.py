"""One process per device: detect torchrun's environment, pick the device and the backend.

torchrun (or any launcher) sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Without
them the run is single-process. NCCL on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from emzoo.errors import InvalidInput


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(device: str, local_rank: int) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInput(
                "--device cuda but no CUDA device is visible", hint="use --device cpu or auto"
            )
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if device.startswith("cuda:") or device == "cpu":
        return torch.device(device)
    raise InvalidInput(f"unknown device {device!r}", hint="use auto, cpu, cuda or cuda:N")


def init_distributed(device: str = "auto") -> DistEnv:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = pick_device(device, local)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistEnv(rank=rank, world_size=world, local_rank=local, device=dev)


def shutdown(env: DistEnv) -> None:
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


def mix_seed(*parts: int) -> int:
    """A 31-bit seed from (seed, rank, iteration, ...): distinct streams per rank and step."""
    h = 0x9E3779B9
    for p in parts:
        h = (h ^ (int(p) & 0xFFFFFFFF)) * 0x01000193 & 0xFFFFFFFF
        h ^= h >> 15
    return h & 0x7FFFFFFF
