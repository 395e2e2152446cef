"""A toy task for trainer tests: tiny conv net, deterministic synthetic batches per (seed, rank, it)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from emzoo.train import ADAM_FUNKE_TF, DistEnv, LossTerm, Task, TrainConfig, mix_seed


class ToyNet(nn.Module):
    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.init_kwargs = {"dropout": dropout}
        self.body = nn.Sequential(
            nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Dropout3d(dropout), nn.Conv3d(4, 2, 1)
        )

    def forward_heads(self, x):
        y = self.body(x)
        return {"a": y[:, :1], "b": y[:, 1:]}


def toy_batch(seed: int, rank: int, iteration: int, batch_size: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(mix_seed(seed, rank, iteration))
    raw = rng.standard_normal((batch_size, 1, 8, 8, 8)).astype(np.float32)
    inner = raw[:, :, 1:-1, 1:-1, 1:-1]
    return {
        "raw": raw,
        "target_a": np.tanh(inner),
        "target_b": (inner > 0).astype(np.float32),
        "weights_b": np.where(inner > 1.0, 2.0, 1.0).astype(np.float32),
    }


def weighted_mse(pred, target, weights):
    return (weights * (pred - target) ** 2).mean()


def make_toy_task(env: DistEnv, cfg: TrainConfig, dropout: float = 0.0, ranks=None) -> Task:
    """``ranks``: which ranks' data to concatenate into one batch (default: this rank's own)."""
    use = [env.rank] if ranks is None else list(ranks)

    def batches(it: int):
        parts = [toy_batch(cfg.seed, r, it, cfg.batch_size) for r in use]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    return Task(
        name="toy",
        model=ToyNet(dropout),
        batches=batches,
        terms=[
            LossTerm("a", "target_a", nn.functional.mse_loss, name="loss_a"),
            LossTerm("b", "target_b", weighted_mse, weights="weights_b", scale=0.5),
        ],
        optimizer=ADAM_FUNKE_TF,
        record={"data": "toy"},
    )


def make_toy_task_dropout(env: DistEnv, cfg: TrainConfig) -> Task:
    return make_toy_task(env, cfg, dropout=0.3)


def make_toy_task_both_ranks(env: DistEnv, cfg: TrainConfig) -> Task:
    return make_toy_task(env, cfg, ranks=[0, 1])


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
