"""Training settings: the run's knobs and the optimiser each original used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class AdamConfig:
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def with_lr(self, lr: float | None) -> AdamConfig:
        return self if lr is None else AdamConfig(lr, self.betas, self.eps)


# LSD (mala), Synful and Micron: tf.train.AdamOptimizer(0.5e-4, beta1=0.95, beta2=0.999, eps=1e-8)
ADAM_FUNKE_TF = AdamConfig(lr=0.5e-4, betas=(0.95, 0.999), eps=1e-8)
# Synister: torch.optim.Adam(lr=1e-4) with default betas
ADAM_SYNISTER = AdamConfig(lr=1e-4)


@dataclass
class TrainConfig:
    out: Path
    iterations: int
    batch_size: int = 1
    lr: float | None = None  # None: the original's learning rate for the task
    seed: int = 0
    save_every: int = 1000
    log_every: int = 10
    resume: bool = False
    device: str = "auto"
    workers: int = 0  # data worker processes per rank (0: batches are made in the training loop)
    # weights to start from instead of a random init (bundle folder, checkpoint or state dict of
    # the same network); the optimiser starts fresh. Ignored when --resume finds a checkpoint.
    init_from: Path | None = None
    extra: dict = field(default_factory=dict)  # free-form facts copied into the training record

    def as_record(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out)
        d["init_from"] = None if self.init_from is None else str(self.init_from)
        return d
