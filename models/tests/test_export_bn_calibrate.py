"""`emzoo export --recalibrate-bn`: BatchNorm's running statistics become their average over
clean crops at presynaptic sites (checked against the first layer's own batch statistics), the
learnt weights stay as trained, the bundle records it, and misuse is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emzoo.cli import main
from emzoo.data import read_volume
from emzoo.data.synth import generate_volume
from emzoo.data.zarr_io import write_zarr
from emzoo.errors import InvalidInput
from emzoo.export.bn_calibrate import presynaptic_crops, recalibrate_batchnorm
from emzoo.export.test_tensors import preprocess
from emzoo.registry import get_preset

PRESET = get_preset("synister-small")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.zarr"
    write_zarr(generate_volume((16, 160, 160), "anisotropic", seed=5, synapse_density=60), path)
    return path


def _skewed_net() -> torch.nn.Module:
    """A network whose BatchNorm statistics are far from anything its inputs produce."""
    torch.manual_seed(0)
    net = PRESET.build()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.fill_(5.0)
            m.running_var.fill_(100.0)
    return net


def test_statistics_are_the_average_of_clean_batch_statistics(volume):
    net = _skewed_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = preprocess(
        presynaptic_crops(read_volume(volume), PRESET.valid_min)[:, None], PRESET.preprocessing
    )
    assert len(x) >= 8
    done = recalibrate_batchnorm(net, PRESET, [volume], batch_size=4, seed=3)
    assert done == {"volumes": 1, "crops": len(x) // 4 * 4, "batches": len(x) // 4}
    assert not net.training

    # reference: the first BatchNorm sees the first convolution's output (weights unchanged)
    conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv3d))
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm3d))
    order = np.random.default_rng(3).permutation(len(x))
    means, variances = [], []
    with torch.no_grad():
        for i in range(0, len(x) - 3, 4):
            h = conv(torch.from_numpy(x[order[i : i + 4]])).double()
            means.append(h.mean(dim=(0, 2, 3, 4)))
            variances.append(h.transpose(0, 1).reshape(h.shape[1], -1).var(dim=1))  # unbiased
    np.testing.assert_allclose(bn.running_mean, torch.stack(means).mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.running_var, torch.stack(variances).mean(0), rtol=1e-4, atol=1e-6)
    assert abs(float(bn.running_mean.mean()) - 5.0) > 1  # the skewed values are gone

    after = net.state_dict()
    for key, value in before.items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        assert torch.equal(after[key], value), key  # no learnt weight moved
    assert all(m.momentum == 0.1 for m in net.modules() if isinstance(m, torch.nn.BatchNorm3d))


def test_export_records_it_and_ships_the_new_statistics(volume, tmp_path):
    net = _skewed_net()
    ckpt = tmp_path / "synister.pt"
    training = {
        "data": {"description": "test volume", "synthetic": True},
        "iterations": 1,
        "seed": 0,
        "final_losses": {"loss": 1.0},
        "held_out_metrics": {},
        "notes": "a test run",
    }
    torch.save(
        {"model_state_dict": net.state_dict(), "preset": PRESET.name, "training": training}, ckpt
    )
    out = tmp_path / "synister-bn"
    args = ["export", "--preset", PRESET.name, "--checkpoint", str(ckpt), "--out", str(out)]
    args += ["--onnx-exporter", "legacy", "--skip-size-check", "--recalibrate-bn", str(volume)]
    assert main(args) == 0
    notes = yaml.safe_load((out / "bundle.yaml").read_text())["training"]["notes"]
    assert notes.startswith("a test run; BatchNorm statistics recomputed at export on ")
    assert "1 training volume(s)" in notes
    shipped = torch.load(out / "state_dict.pt", weights_only=True)
    key = next(k for k in shipped if k.endswith("running_mean"))
    assert not torch.allclose(shipped[key], torch.full_like(shipped[key], 5.0))


def test_misuse_is_refused(volume, tmp_path):
    dense = get_preset("lsd-small-mtlsd")
    with pytest.raises(InvalidInput, match="no BatchNorm layer"):
        recalibrate_batchnorm(dense.build(), dense, [volume])
    with pytest.raises(InvalidInput, match="does not exist"):
        recalibrate_batchnorm(_skewed_net(), PRESET, [tmp_path / "missing.zarr"])
    args = ["export", "--preset", PRESET.name, "--out", str(tmp_path / "b"), "--recalibrate-bn"]
    assert main([*args, str(volume)]) == InvalidInput.exit_code  # no --checkpoint
    assert not (tmp_path / "b").exists()
