"""emzoo train --init-from: start from given weights (checkpoint, state dict, bundle folder)
instead of a random init; recorded in the training record; --resume wins over it."""

from __future__ import annotations

import pytest
import torch
from _toy_task import make_toy_task_dropout

from emzoo.errors import InvalidInput
from emzoo.train import TrainConfig, train
from emzoo.train.checkpoint import latest_checkpoint, load_checkpoint
from emzoo.train.record import bundle_training

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cfg(out, iterations, **kw):
    return TrainConfig(
        out=out, iterations=iterations, save_every=2, log_every=1, device="cpu", **kw
    )


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_a_checkpoint_seeds_the_weights_and_the_record_says_so(tmp_path):
    first = train(make_toy_task_dropout, _cfg(tmp_path / "a", 4, seed=1), preset="toy")
    ckpt = latest_checkpoint(tmp_path / "a")
    # seed 2 would start elsewhere; lr 0 keeps the loaded weights exactly through one step
    tuned = train(
        make_toy_task_dropout,
        _cfg(tmp_path / "b", 1, seed=2, lr=0.0, init_from=ckpt),
        preset="toy",
    )
    want = _params(first.model)
    got = _params(tuned.model)
    assert all(torch.equal(want[k], got[k]) for k in want)
    fresh = train(make_toy_task_dropout, _cfg(tmp_path / "c", 1, seed=2, lr=0.0), preset="toy")
    assert not all(torch.equal(want[k], v) for k, v in _params(fresh.model).items())
    init = tuned.record["initialised_from"]
    assert init["path"] == str(ckpt) and len(init["sha256"]) == 64
    assert "weights initialised from" in bundle_training(tuned.record)["notes"]
    assert "initialised_from" not in fresh.record


def test_a_bundle_folder_and_a_bare_state_dict_are_accepted(tmp_path):
    first = train(make_toy_task_dropout, _cfg(tmp_path / "a", 2, seed=1), preset="toy")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    torch.save(first.model.state_dict(), bundle / "state_dict.pt")
    res = train(
        make_toy_task_dropout,
        _cfg(tmp_path / "b", 1, seed=3, lr=0.0, init_from=bundle),
        preset="toy",
    )
    assert res.record["initialised_from"]["file"] == str(bundle / "state_dict.pt")
    want = _params(first.model)
    assert all(torch.equal(want[k], v) for k, v in _params(res.model).items())


def test_resume_continues_the_run_not_the_initial_weights(tmp_path):
    first = train(make_toy_task_dropout, _cfg(tmp_path / "a", 2, seed=1), preset="toy")
    init = latest_checkpoint(tmp_path / "a")
    train(make_toy_task_dropout, _cfg(tmp_path / "b", 2, seed=5, init_from=init), preset="toy")
    resumed = train(
        make_toy_task_dropout,
        _cfg(tmp_path / "b", 4, seed=5, init_from=init, resume=True),
        preset="toy",
    )
    assert resumed.start_iteration == 2
    # the record keeps where the run's weights first came from
    assert resumed.record["initialised_from"]["path"] == str(init)
    saved = load_checkpoint(latest_checkpoint(tmp_path / "b"))
    assert saved["training_record"]["initialised_from"]["path"] == str(init)
    assert not all(
        torch.equal(v, _params(first.model)[k]) for k, v in _params(resumed.model).items()
    )


def test_weights_of_another_preset_or_shape_are_refused(tmp_path):
    train(make_toy_task_dropout, _cfg(tmp_path / "a", 2, seed=1), preset="toy")
    ckpt = latest_checkpoint(tmp_path / "a")
    with pytest.raises(InvalidInput, match="trained for preset 'toy', not 'other'"):
        train(make_toy_task_dropout, _cfg(tmp_path / "b", 1, init_from=ckpt), preset="other")
    bad = tmp_path / "bad.pt"
    torch.save({"body.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(InvalidInput, match=r"does not fit preset 'toy'.*missing"):
        train(make_toy_task_dropout, _cfg(tmp_path / "c", 1, init_from=bad), preset="toy")
    empty = tmp_path / "folder"
    empty.mkdir()
    with pytest.raises(InvalidInput, match=r"folder without state_dict\.pt"):
        train(make_toy_task_dropout, _cfg(tmp_path / "d", 1, init_from=empty), preset="toy")
