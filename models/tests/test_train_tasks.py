"""Task pipelines on tiny synthetic volumes, and a real `emzoo train` run with resume."""

from __future__ import annotations

import csv
import json

import jsonschema
import numpy as np
import pytest
import torch

from emzoo.cli import main
from emzoo.data import write_zarr
from emzoo.data.synth import generate_volume
from emzoo.export.checkpoint import check_matches, load_checkpoint
from emzoo.export.schema import load_schema
from emzoo.registry import get_preset
from emzoo.train import TrainConfig
from emzoo.train.distributed import DistEnv
from emzoo.train.task import Heads, total_loss
from emzoo.train.tasks import build_task
from emzoo.train.trainer import _to_device

pytestmark = pytest.mark.usefixtures("one_torch_thread")


CPU = DistEnv(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    iso = write_zarr(generate_volume((48, 48, 48), "isotropic", seed=1), root / "iso.zarr")
    aniso = write_zarr(generate_volume((16, 96, 96), "anisotropic", seed=2), root / "aniso.zarr")
    return {"isotropic": iso, "anisotropic": aniso}


CASES = [
    ("lsd-small-mtlsd", "isotropic"),
    ("synful-small", "isotropic"),
    ("micron-small", "anisotropic"),
    ("synister-small", "anisotropic"),
]


@pytest.mark.parametrize(("preset", "mode"), CASES, ids=[c[0] for c in CASES])
def test_pipeline_batch_feeds_the_preset_and_its_loss(volumes, preset, mode, tmp_path):
    torch.manual_seed(0)
    p = get_preset(preset)
    n = 2 if preset == "synister-small" else 1  # two samples: a class per sample
    task = build_task(
        p, volumes[mode], CPU, TrainConfig(out=tmp_path, iterations=1, batch_size=n, seed=4)
    )
    try:
        batch = task.batches(0)
        again = task.batches(0)  # a pure function of the iteration (exact resume)
        other = task.batches(1)
    finally:
        task.close()
    for k in batch:
        np.testing.assert_array_equal(batch[k], again[k])
    assert not np.array_equal(batch["raw"], other["raw"])
    raw = batch["raw"]
    assert raw.shape == (n, 1, *p.train_input_shape) and raw.dtype == np.float32
    assert -1.0 - 0.2 <= raw.min() and raw.max() <= 1.0 + 0.2  # normalised x2-1 (+ intensity aug)
    t = _to_device(batch, CPU.device)
    heads = Heads(task.model)(t["raw"])
    for term in task.terms:  # every target has its head's shape (dense) or is a class index
        target = t[term.target]
        if p.output_kind == "dense":
            assert target.shape == heads[term.head].shape, term
        else:
            assert target.shape == (n,) and target.dtype == torch.int64
    loss, parts = total_loss(task.terms, heads, t)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert all(p.grad is not None for p in task.model.parameters() if p.requires_grad)
    if preset == "lsd-small-mtlsd":
        assert set(batch["gt_affs"].ravel()) <= {0.0, 1.0} and 0 < batch["gt_affs"].mean() < 1
        assert 0 <= batch["gt_lsds"].min() and batch["gt_lsds"].max() <= 1
    if preset == "synful-small":
        assert set(parts) == {"loss_mask", "loss_vectors"}
    if preset == "synister-small":
        assert set(batch["classes"].tolist()) <= set(range(6))


def test_emzoo_train_writes_checkpoint_and_csv_and_resumes(volumes, tmp_path):
    out = tmp_path / "run"
    args = [
        "train",
        "--preset",
        "lsd-small-mtlsd",
        "--data",
        str(volumes["isotropic"]),
        "--out",
        str(out),
    ]
    args += ["--save-every", "2", "--log-every", "1", "--device", "cpu", "--seed", "3"]
    assert main([*args, "--iterations", "2"]) == 0
    path = out / "checkpoints" / "checkpoint_00000002.pt"
    ckpt = torch.load(path, weights_only=True)  # no pickled code: the exporter's way
    assert ckpt["preset"] == "lsd-small-mtlsd" and ckpt["iteration"] == 2
    # the exporter's checkpoint reader accepts it for the preset's network ...
    preset = get_preset("lsd-small-mtlsd")
    loaded = load_checkpoint(path, preset)
    check_matches(preset.build(), loaded, preset)
    # ... and its training section is the bundle schema's
    defs = load_schema()["$defs"]
    jsonschema.Draft202012Validator({"$ref": "#/$defs/training", "$defs": defs}).validate(
        loaded.training
    )
    assert loaded.training["data"]["synthetic"] is True
    assert set(loaded.training["final_losses"]) == {"loss", "loss_lsds", "loss_affs"}
    # resumed with a data worker process: the gunpowder pipeline runs in a forked worker
    assert main([*args, "--iterations", "3", "--resume", "--workers", "1"]) == 0
    with (out / "train_log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3]
    assert {"loss_lsds", "loss_affs"} <= set(rows[0])
    record = json.loads((out / "training.json").read_text())
    assert record["iterations"] == 3 and record["preset"] == "lsd-small-mtlsd"
    assert record["optimizer"]["betas"] == [0.95, 0.999]
    resumed = torch.load(out / "checkpoints" / "checkpoint_00000003.pt", weights_only=True)
    assert resumed["training"]["iterations"] == 3
    assert resumed["training"]["duration_s"] > loaded.training["duration_s"]  # accumulates


def test_emzoo_train_rejects_data_at_another_voxel_size(volumes, tmp_path, capsys):
    args = ["train", "--preset", "synister-small", "--data", str(volumes["isotropic"])]
    code = main([*args, "--iterations", "1", "--out", str(tmp_path / "x"), "--device", "cpu"])
    assert code == 3
    err = capsys.readouterr().err
    assert "voxel size" in err and "hint:" in err


def test_micron_foreground_weight_reaches_the_loss_and_the_record(volumes, tmp_path, capsys):
    out = tmp_path / "micron"
    base = ["train", "--preset", "micron-small", "--data", str(volumes["anisotropic"])]
    base += ["--iterations", "1", "--device", "cpu", "--save-every", "1"]
    args = [*base, "--out", str(out)]
    assert main([*args, "--micron-foreground-weight", "2.5"]) == 0
    record = json.loads((out / "training.json").read_text())
    assert record["foreground_weight"] == 2.5
    loaded = load_checkpoint(
        out / "checkpoints" / "checkpoint_00000001.pt", get_preset("micron-small")
    )
    assert "fixed foreground weight 2.5" in loaded.training["notes"]
    # the originals' weighting stays the default, and is recorded as such
    default = tmp_path / "micron-default"
    assert main([*base, "--out", str(default)]) == 0
    assert json.loads((default / "training.json").read_text())["foreground_weight"] == "count"
    # another task, or a weight that is not positive, is refused with a hint
    lsd = ["train", "--preset", "lsd-small-mtlsd", "--data", str(volumes["isotropic"])]
    lsd += ["--out", str(tmp_path / "lsd"), "--iterations", "1", "--device", "cpu"]
    capsys.readouterr()
    assert main([*lsd, "--micron-foreground-weight", "2"]) == 3
    assert "Micron's loss only" in capsys.readouterr().err
    assert main([*args, "--micron-foreground-weight", "-1"]) == 3
    assert "must be positive" in capsys.readouterr().err
