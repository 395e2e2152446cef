"""DDP: two gloo processes on CPU keep identical weights, equal to one process on both ranks' data."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from _toy_task import make_toy_task, make_toy_task_both_ranks, params_of

from emzoo.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


STEPS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    # the environment torchrun would set
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    cfg = TrainConfig(
        out=out, iterations=STEPS, save_every=STEPS, log_every=1, seed=3, device="cpu"
    )
    res = train(make_toy_task, cfg, preset="toy")
    torch.save(
        {"params": params_of(res.model), "losses": res.losses}, os.path.join(out, f"rank{rank}.pt")
    )


def _cfg(out):
    return TrainConfig(
        out=out, iterations=STEPS, save_every=STEPS, log_every=1, seed=3, device="cpu"
    )


def test_two_gloo_ranks_average_gradients(tmp_path):
    ddp_dir = tmp_path / "ddp"
    ddp_dir.mkdir()
    # fork, not spawn: children inherit the imported torch (and DDP's torch._dynamo, imported once
    # here) instead of paying ~6 s each to import them again
    import torch._dynamo

    mp.start_processes(
        _worker, args=(2, _free_port(), str(ddp_dir)), nprocs=2, join=True, start_method="fork"
    )
    r0, r1 = (torch.load(ddp_dir / f"rank{r}.pt") for r in (0, 1))
    # every rank holds the same weights after several steps
    for k in r0["params"]:
        torch.testing.assert_close(r0["params"][k], r1["params"][k], rtol=0, atol=0)
    # the ranks saw different data
    assert r0["losses"] != r1["losses"]
    # DDP averages gradients of per-rank mean losses = one process on both ranks' data concatenated
    both = train(make_toy_task_both_ranks, _cfg(tmp_path / "both"), preset="toy")
    alone = train(make_toy_task, _cfg(tmp_path / "alone"), preset="toy")  # rank 0's data only
    p_both, p_alone = params_of(both.model), params_of(alone.model)
    for k in r0["params"]:
        torch.testing.assert_close(r0["params"][k], p_both[k], rtol=1e-5, atol=1e-6)
    diff = max((r0["params"][k] - p_alone[k]).abs().max().item() for k in p_alone)
    assert diff > 1e-5, "DDP weights must differ from a run on rank 0's data alone"
    # only rank 0 wrote checkpoints and logs: one checkpoint, one CSV with STEPS rows
    assert [p.name for p in (ddp_dir / "checkpoints").iterdir()] == [f"checkpoint_{STEPS:08d}.pt"]
    assert len((ddp_dir / "train_log.csv").read_text().strip().splitlines()) == STEPS + 1
    ckpt = torch.load(ddp_dir / "checkpoints" / f"checkpoint_{STEPS:08d}.pt", weights_only=False)
    assert ckpt["training_record"]["world_size"] == 2
