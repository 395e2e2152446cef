"""Training: a task-agnostic loop (single device or DDP), checkpoints, scalar logs, task pipelines."""

from emzoo.train.config import ADAM_FUNKE_TF, ADAM_SYNISTER, AdamConfig, TrainConfig
from emzoo.train.distributed import DistEnv, init_distributed, mix_seed
from emzoo.train.task import Heads, LossTerm, Task
from emzoo.train.trainer import TrainResult, train

__all__ = [
    "ADAM_FUNKE_TF",
    "ADAM_SYNISTER",
    "AdamConfig",
    "DistEnv",
    "Heads",
    "LossTerm",
    "Task",
    "TrainConfig",
    "TrainResult",
    "init_distributed",
    "mix_seed",
    "train",
]
