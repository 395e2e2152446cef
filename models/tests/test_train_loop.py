"""Trainer on a toy task: checkpoints, CSV log, optimiser settings, exact resume."""

from __future__ import annotations

import csv

import pytest
import torch
from _toy_task import make_toy_task_dropout

from emzoo.train import TrainConfig, train
from emzoo.train.checkpoint import latest_checkpoint, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cfg(out, iterations, **kw):
    return TrainConfig(
        out=out, iterations=iterations, save_every=3, log_every=1, seed=7, device="cpu", **kw
    )


def test_checkpoint_and_csv_contents(tmp_path):
    res = train(make_toy_task_dropout, _cfg(tmp_path, 4, batch_size=2), preset="toy")
    assert len(res.losses) == 4 and all(torch.isfinite(torch.tensor(res.losses)))
    ckpt = load_checkpoint(latest_checkpoint(tmp_path))
    assert ckpt["iteration"] == 4 and ckpt["preset"] == "toy"
    assert {"torch", "numpy", "python"} <= set(ckpt["rng_states"])
    # the originals' Adam: lr 0.5e-4, betas (0.95, 0.999), eps 1e-8
    group = ckpt["optimizer_state_dict"]["param_groups"][0]
    assert group["lr"] == 0.5e-4 and tuple(group["betas"]) == (0.95, 0.999) and group["eps"] == 1e-8
    assert ckpt["training_record"]["iterations"] == 4
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "checkpoint_00000003.pt",
        "checkpoint_00000004.pt",
    ]
    with (tmp_path / "train_log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) >= {"loss", "loss_a", "b", "lr", "seconds_per_iteration"}
    # logged total = sum of the logged terms
    for r in rows:
        assert float(r["loss"]) == pytest.approx(float(r["loss_a"]) + float(r["b"]), rel=1e-5)
    assert float(rows[-1]["loss"]) == pytest.approx(res.losses[-1], rel=1e-6)
    # the weights in the checkpoint are the trained model's
    for k, v in res.model.state_dict().items():
        torch.testing.assert_close(ckpt["model_state_dict"][k], v, rtol=0, atol=0)


def test_resume_continues_the_same_loss_trajectory(tmp_path):
    full = train(make_toy_task_dropout, _cfg(tmp_path / "full", 8), preset="toy")
    first = train(make_toy_task_dropout, _cfg(tmp_path / "split", 5), preset="toy")
    # resume from the checkpoint at 5 (last save) and run on to 8
    second = train(make_toy_task_dropout, _cfg(tmp_path / "split", 8, resume=True), preset="toy")
    assert second.start_iteration == 5
    assert first.losses + second.losses == pytest.approx(full.losses, abs=1e-6)
    assert len(set(full.losses)) == 8  # it actually trains: losses change every step
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[k], v, rtol=1e-6, atol=1e-7)
    with (tmp_path / "split" / "train_log.csv").open() as f:
        its = [int(r["iteration"]) for r in csv.DictReader(f)]
    assert its == list(range(1, 9))


def test_resume_from_a_later_checkpoint_than_the_last_save(tmp_path):
    # saved at 3 and 4 (end); resuming to 6 starts from 4, not 3
    train(make_toy_task_dropout, _cfg(tmp_path, 4), preset="toy")
    res = train(make_toy_task_dropout, _cfg(tmp_path, 6, resume=True), preset="toy")
    assert res.start_iteration == 4 and len(res.losses) == 2


def test_data_workers_give_the_same_trajectory(tmp_path):
    inline = train(make_toy_task_dropout, _cfg(tmp_path / "inline", 6), preset="toy")
    workers = train(make_toy_task_dropout, _cfg(tmp_path / "workers", 6, workers=2), preset="toy")
    assert workers.losses == inline.losses


def _dead_toy_task(env, cfg):
    """The toy task with every ReLU of its first layer dead (bias far below any activation):
    the output is the last layer's bias for every input, as in a collapsed classifier."""
    from _toy_task import make_toy_task

    task = make_toy_task(env, cfg)
    with torch.no_grad():
        task.model.body[0].bias.fill_(-1e3)
    return task


def test_a_network_with_constant_output_is_reported_once(tmp_path, capsys):
    res = train(_dead_toy_task, _cfg(tmp_path / "dead", 8), preset="toy")
    err = capsys.readouterr().err
    assert err.count("the same for every input") == 1 and "iteration 5" in err
    assert "lower --lr" in err
    assert len(res.record["warnings"]) == 1
    live = train(make_toy_task_dropout, _cfg(tmp_path / "live", 8), preset="toy")
    assert "the same for every input" not in capsys.readouterr().err
    assert "warnings" not in live.record
