"""Autocontext stage-2 training (ACRLSD): a frozen stage-1 LSD net feeds an 11-channel stage 2."""

from __future__ import annotations

import json

import pytest
import torch

from emzoo.cli import main
from emzoo.data import write_zarr
from emzoo.data.synth import generate_volume
from emzoo.errors import InvalidInput
from emzoo.export.checkpoint import check_matches, load_checkpoint
from emzoo.nets.shapes import describe
from emzoo.registry import get_preset
from emzoo.train import TrainConfig, train
from emzoo.train.distributed import DistEnv
from emzoo.train.tasks import build_task
from emzoo.train.tasks.autocontext import stage1_input_shape

CPU = DistEnv(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("acrlsd")
    return write_zarr(generate_volume((48, 48, 48), "isotropic", seed=3), root / "iso.zarr")


@pytest.fixture(scope="module")
def stage1(tmp_path_factory):
    """A random-initialised lsd-small-lsd checkpoint (what `emzoo train` writes: preset named)."""
    torch.manual_seed(11)
    net = get_preset("lsd-small-lsd").build()
    path = tmp_path_factory.mktemp("stage1") / "stage1.pt"
    torch.save({"model_state_dict": net.state_dict(), "preset": "lsd-small-lsd"}, path)
    return path, {k: v.clone() for k, v in net.state_dict().items()}


def test_presets_pair_up():
    s1, s2 = get_preset("lsd-small-lsd"), get_preset("lsd-small-acrlsd")
    assert s1.kwargs["num_lsds"] == 10 and s1.kwargs["num_affinities"] == 0
    assert s2.in_channels == 11 and s2.semantics["autocontext"]["stage1_preset"] == s1.name
    raw = stage1_input_shape(s1, s2.train_input_shape)
    assert list(raw) == s2.semantics["autocontext"]["stage1_train_input_shape"]
    # the smallest stage-1 input whose LSD output covers stage 2's input
    assert describe(s1, raw)["output_shape"] == list(s2.train_input_shape)
    smaller = tuple(r - st for r, st in zip(raw, s1.valid_step, strict=True))
    assert describe(s1, smaller)["output_shape"][0] < s2.train_input_shape[0]
    # the paper pair: 304^3 raw -> 200^3 LSDs, cropped to stage 2's 196^3
    fib = stage1_input_shape(get_preset("lsd-fib25-lsd"), (196, 196, 196))
    assert fib == (304, 304, 304)


def test_stage2_trains_on_frozen_stage1_lsds(data, stage1, tmp_path):
    path, before = stage1
    preset = get_preset("lsd-small-acrlsd")
    seen = []

    def make(env, cfg):
        task = build_task(preset, data, env, cfg, augment="none", stage1=path)
        # stage 2's first convolution sees what stage 2 is given
        first = next(m for m in task.model.net.modules() if isinstance(m, torch.nn.Conv3d))
        first.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
        return task

    cfg = TrainConfig(out=tmp_path / "run", iterations=2, save_every=2, log_every=1, seed=2)
    result = train(make, cfg, preset.name)
    # stage 2 saw 11 channels at its train input size: raw (cropped) + 10 LSDs
    assert [tuple(x.shape) for x in seen] == [(1, 11, *preset.train_input_shape)] * 2
    lsds = seen[0][:, 1:]
    assert 0 <= lsds.min() and lsds.max() <= 1  # stage 1's sigmoid LSD head
    # ... and channel 0 is raw centre-cropped from the stage-1 input
    frozen = result.model.stage1  # still frozen, in eval mode, unchanged
    assert not frozen.training and not any(p.requires_grad for p in frozen.parameters())
    for k, v in frozen.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    # the checkpoint holds stage 2 only, readable by the exporter for the stage-2 preset
    ckpt = load_checkpoint(result.checkpoint, preset)
    fresh = preset.build()
    check_matches(fresh, ckpt, preset)
    torch.manual_seed(cfg.seed)
    init = preset.build().state_dict()  # the trainer's initial weights (same seed)
    assert any(not torch.equal(init[k], ckpt.state_dict[k]) for k in init)  # stage 2 learned
    assert result.record["stage1_preset"] == "lsd-small-lsd"
    assert result.record["stage1_input_shape"] == [100, 100, 100]


def test_stage2_input_is_cropped_raw_then_lsds(data, stage1):
    path, _ = stage1
    preset = get_preset("lsd-small-acrlsd")
    cfg = TrainConfig(out="unused", iterations=1)
    task = build_task(preset, data, CPU, cfg, augment="none", stage1=path)
    try:
        raw = torch.from_numpy(task.batches(0)["raw"])
    finally:
        task.close()
    assert raw.shape == (1, 1, 100, 100, 100)
    x = task.model.stage2_input(raw)
    torch.testing.assert_close(x[:, :1], raw[..., 20:80, 20:80, 20:80], rtol=0, atol=0)
    with torch.no_grad():
        lsds = task.model.stage1.forward_heads(raw)["lsds"]
    torch.testing.assert_close(x[:, 1:], lsds, rtol=0, atol=0)


def test_autocontext_needs_stage1_and_others_refuse_it(data, stage1, tmp_path, capsys):
    cfg = TrainConfig(out=tmp_path, iterations=1)
    with pytest.raises(InvalidInput) as info:
        build_task(get_preset("lsd-small-acrlsd"), data, CPU, cfg)
    assert "--stage1" in info.value.hint and "lsd-small-lsd" in info.value.hint
    with pytest.raises(InvalidInput):
        build_task(get_preset("lsd-small-mtlsd"), data, CPU, cfg, stage1=stage1[0])
    # a stage-1 checkpoint of another preset is named as such
    wrong = tmp_path / "wrong.pt"
    net = get_preset("lsd-small-mtlsd").build()
    torch.save({"model_state_dict": net.state_dict(), "preset": "lsd-small-mtlsd"}, wrong)
    with pytest.raises(InvalidInput) as info:
        build_task(get_preset("lsd-small-acrlsd"), data, CPU, cfg, stage1=wrong)
    assert "lsd-small-mtlsd" in str(info.value)
    # a bundle folder: its state_dict.pt
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    torch.save(stage1[1], bundle / "state_dict.pt")
    task = build_task(get_preset("lsd-small-acrlsd"), data, CPU, cfg, stage1=bundle)
    task.close()
    for k, v in task.model.stage1.state_dict().items():
        torch.testing.assert_close(v, stage1[1][k], rtol=0, atol=0)
    args = ["train", "--preset", "lsd-small-acrlsd", "--data", str(data), "--iterations", "1"]
    assert main([*args, "--out", str(tmp_path / "x"), "--stage1", str(tmp_path / "nope")]) == 3
    assert "--stage1" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "y"), "--augment", "elastic"]) == 3
    assert "kornia-light" in capsys.readouterr().err
    # the command passes both through
    ok = ["--out", str(tmp_path / "z"), "--stage1", str(bundle), "--augment", "originals"]
    assert main([*args, *ok, "--device", "cpu"]) == 0
    record = json.loads((tmp_path / "z" / "training.json").read_text())
    assert record["augment"] == "originals" and record["stage1_preset"] == "lsd-small-lsd"
