"""What must make an export or a bundle check fail, and how clearly it says so.

In-process exports of synister-small with the legacy ONNX exporter and no size check (seconds,
not the ~20 s of torch.export); the exporter choice does not matter for what is tested here.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emzoo.cli import main
from emzoo.errors import ExportCheckFailed, InvalidInput
from emzoo.export import ExportOptions, export_bundle, validate_bundle
from emzoo.export import write_bundle as wb
from emzoo.export.shapes import meta_output_shape
from emzoo.registry import get_preset

FAST = "synister-small"


def _opts(out: Path, **kw) -> ExportOptions:
    return ExportOptions(
        preset=kw.pop("preset", FAST), out=out, exporter="legacy", size_check=False, **kw
    )


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good") / FAST
    export_bundle(_opts(out))
    return out


def _copy(good: Path, tmp_path: Path) -> Path:
    dst = tmp_path / FAST
    shutil.copytree(good, dst)
    return dst


def _no_leftovers(parent: Path, name: str) -> None:
    assert not (parent / name).exists(), "a failed export left a bundle behind"
    assert not [p.name for p in parent.iterdir() if p.name.startswith(".")], (
        "temporary folder left behind"
    )


# ---- corrupted bundles ------------------------------------------------------------------------


def test_good_bundle_validates_and_cli_says_so(good_bundle, capsys):
    assert validate_bundle(good_bundle, run=True)["id"] == FAST
    assert main(["validate-bundle", str(good_bundle), "--run"]) == 0
    assert "valid bundle" in capsys.readouterr().out


def test_changed_byte_fails_with_file_name(good_bundle, tmp_path, capsys):
    b = _copy(good_bundle, tmp_path)
    data = bytearray((b / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (b / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match=r"model\.onnx: sha256 differs"):
        validate_bundle(b)
    assert main(["validate-bundle", str(b)]) == InvalidInput.exit_code
    err = capsys.readouterr().err
    assert "model.onnx: sha256 differs" in err and "hint:" in err


def test_missing_file_fails(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    (b / "test_output.npy").unlink()
    with pytest.raises(InvalidInput, match=r"test_output\.npy: missing"):
        validate_bundle(b)


def test_unlisted_file_fails(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    (b / "notes.txt").write_text("stray")
    with pytest.raises(InvalidInput, match=r"notes\.txt: present but not listed"):
        validate_bundle(b)


def test_bad_yaml_fails(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    (b / "bundle.yaml").write_text("id: [unclosed\n  name: {")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        validate_bundle(b)


def test_schema_violation_names_the_key(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    data = yaml.safe_load((b / "bundle.yaml").read_text())
    del data["license"]
    data["input"]["axes"] = ["b", "c", "y", "x"]
    data["surprise"] = 1
    (b / "bundle.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInput) as info:
        validate_bundle(b)
    msg = str(info.value)
    assert "'license' is a required property" in msg
    assert "input/axes" in msg
    assert "'surprise' was unexpected" in msg


@pytest.fixture(scope="module")
def dense_bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dense") / "lsd-small-mtlsd"
    export_bundle(_opts(out, preset="lsd-small-mtlsd", test_k=0))
    return out


def _rehash(b: Path, names: list[str], edit=None) -> None:
    from emzoo.export.hashes import sha256_file

    data = yaml.safe_load((b / "bundle.yaml").read_text())
    if edit is not None:
        edit(data)
    for name in names:
        data["files"][name] = sha256_file(b / name)
    (b / "bundle.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def stored_zoo_bundle(dense_bundle, tmp_path_factory) -> Path:
    """dense_bundle as earlier exports wrote it: with zoo/test_output.npy declared and hashed."""
    b = tmp_path_factory.mktemp("stored") / dense_bundle.name
    shutil.copytree(dense_bundle, b)
    data = yaml.safe_load((b / "bundle.yaml").read_text())
    halo = data["output"]["halo"]
    y = np.load(b / "test_output.npy")
    np.save(b / "zoo/test_output.npy", np.pad(y, [(0, 0), (0, 0)] + [(h, h) for h in halo]))
    shape = list(np.load(b / "zoo/test_output.npy").shape)
    _rehash(
        b,
        ["zoo/test_output.npy"],
        lambda d: d["zoo_variant"].update(
            test_tensor={"file": "zoo/test_output.npy", "shape": shape}
        ),
    )
    return b


def test_export_writes_no_zoo_test_output(dense_bundle):
    data = yaml.safe_load((dense_bundle / "bundle.yaml").read_text())
    assert not (dense_bundle / "zoo/test_output.npy").exists()
    assert "test_tensor" not in data["zoo_variant"] and "zoo/test_output.npy" not in data["files"]


def test_a_stored_zoo_test_output_stays_valid_and_is_checked(stored_zoo_bundle):
    bundle = validate_bundle(stored_zoo_bundle, run=True)
    assert bundle["zoo_variant"]["test_tensor"]["file"] == "zoo/test_output.npy"


def test_zoo_test_output_declared_and_hashed_together(stored_zoo_bundle, dense_bundle, tmp_path):
    b = tmp_path / "undeclared" / dense_bundle.name  # hashed but not declared
    shutil.copytree(stored_zoo_bundle, b)
    _rehash(b, [], lambda d: d["zoo_variant"].pop("test_tensor"))
    with pytest.raises(InvalidInput, match="should not be valid"):
        validate_bundle(b)
    b = tmp_path / "unhashed" / dense_bundle.name  # declared but neither hashed nor present
    shutil.copytree(dense_bundle, b)
    _rehash(
        b,
        [],
        lambda d: d["zoo_variant"].update(
            test_tensor={"file": "zoo/test_output.npy", "shape": [1, 13, 4, 4, 4]}
        ),
    )
    with pytest.raises(InvalidInput, match=r"'zoo/test_output\.npy' is a required property"):
        validate_bundle(b)


def test_zoo_variant_files_are_checked(dense_bundle, tmp_path):
    assert validate_bundle(dense_bundle, run=True)["zoo_variant"]["kind"] == "padded-output"
    b = tmp_path / dense_bundle.name
    shutil.copytree(dense_bundle, b)
    (b / "zoo/model.torchscript.pt").unlink()
    (b / "zoo/extra.npy").write_bytes(b"x")
    with pytest.raises(InvalidInput) as info:
        validate_bundle(b)
    assert "zoo/model.torchscript.pt: missing" in str(info.value)
    assert "zoo/extra.npy: present but not listed" in str(info.value)


def test_zoo_test_output_must_be_the_valid_output_in_a_zero_border(stored_zoo_bundle, tmp_path):
    b = tmp_path / stored_zoo_bundle.name
    shutil.copytree(stored_zoo_bundle, b)
    y = np.load(b / "zoo/test_output.npy")
    y[0, 0, 0, 0, 0] = 0.5  # a border voxel
    np.save(b / "zoo/test_output.npy", y)
    _rehash(b, ["zoo/test_output.npy"])
    with pytest.raises(InvalidInput, match=r"zoo/test_output\.npy: .*not zero-filled"):
        validate_bundle(b)


@pytest.mark.parametrize("stored", [False, True], ids=["derived", "stored"])
def test_zoo_onnx_must_reproduce_the_zoo_test_output(
    dense_bundle, stored_zoo_bundle, stored, tmp_path
):
    src = stored_zoo_bundle if stored else dense_bundle
    b = tmp_path / src.name
    shutil.copytree(src, b)
    shutil.copyfile(dense_bundle / "model.onnx", b / "zoo/model.onnx")  # the valid-output graph
    _rehash(b, ["zoo/model.onnx"])
    validate_bundle(b)
    with pytest.raises(InvalidInput, match=r"zoo/model\.onnx: .*output shape \(1, 13, 4, 4, 4\)"):
        validate_bundle(b, run=True)


def test_zoo_variant_on_a_class_output_is_a_schema_error(good_bundle, dense_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    zoo = yaml.safe_load((dense_bundle / "bundle.yaml").read_text())["zoo_variant"]
    for name in ["zoo/model.onnx", "zoo/model.torchscript.pt"]:
        (b / "zoo").mkdir(exist_ok=True)
        shutil.copyfile(dense_bundle / name, b / name)
    _rehash(
        b,
        ["zoo/model.onnx", "zoo/model.torchscript.pt"],
        lambda d: d.update(zoo_variant=zoo),
    )
    with pytest.raises(InvalidInput, match="'dense' was expected"):
        validate_bundle(b)


def test_wrong_zoo_onnx_fails_export_and_leaves_no_bundle(tmp_path, monkeypatch):
    from emzoo.export import zoo_variant as zv

    real = zv.export_onnx
    monkeypatch.setattr(zv, "export_onnx", lambda net, *a, **kw: real(_perturbed(net), *a, **kw))
    with pytest.raises(ExportCheckFailed, match="zoo ONNX"):
        export_bundle(_opts(tmp_path / "lsd-small-mtlsd", preset="lsd-small-mtlsd", test_k=0))
    _no_leftovers(tmp_path, "lsd-small-mtlsd")


def test_test_output_that_onnx_does_not_reproduce_fails_run(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    y = np.load(b / "test_output.npy")
    np.save(b / "test_output.npy", y + np.float32(0.01))
    data = yaml.safe_load((b / "bundle.yaml").read_text())
    from emzoo.export.hashes import sha256_file

    data["files"]["test_output.npy"] = sha256_file(b / "test_output.npy")  # consistent hashes
    (b / "bundle.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    validate_bundle(b)  # structurally fine ...
    with pytest.raises(InvalidInput, match=r"model\.onnx: differs from test_output\.npy"):
        validate_bundle(b, run=True)  # ... but the model does not reproduce it


# ---- exports that must fail and leave nothing behind -------------------------------------------


def _perturbed(net: torch.nn.Module) -> torch.nn.Module:
    bad = copy.deepcopy(net)
    with torch.no_grad():
        for p in bad.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return bad


@pytest.mark.parametrize("target", ["export_onnx", "export_torchscript"])
def test_wrong_artefact_fails_export_and_leaves_no_bundle(tmp_path, monkeypatch, target):
    real = getattr(wb, target)
    monkeypatch.setattr(wb, target, lambda net, *a, **kw: real(_perturbed(net), *a, **kw))
    with pytest.raises(ExportCheckFailed, match="differs from PyTorch"):
        export_bundle(_opts(tmp_path / FAST))
    _no_leftovers(tmp_path, FAST)


def test_wrong_state_dict_file_fails_export(tmp_path, monkeypatch):
    real = wb.write_state_dict
    monkeypatch.setattr(wb, "write_state_dict", lambda net, folder: real(_perturbed(net), folder))
    with pytest.raises(ExportCheckFailed, match=r"state_dict\.pt \+ architecture\.py differs"):
        export_bundle(_opts(tmp_path / FAST))
    _no_leftovers(tmp_path, FAST)


def test_cli_export_failure_exit_code(tmp_path, monkeypatch, capsys):
    real = wb.export_onnx
    monkeypatch.setattr(wb, "export_onnx", lambda net, *a, **kw: real(_perturbed(net), *a, **kw))
    out = tmp_path / FAST
    code = main(
        [
            "export",
            "--preset",
            FAST,
            "--out",
            str(out),
            "--onnx-exporter",
            "legacy",
            "--skip-size-check",
        ]
    )
    assert code == ExportCheckFailed.exit_code
    assert "ONNX (onnxruntime CPU) differs from PyTorch" in capsys.readouterr().err
    _no_leftovers(tmp_path, FAST)


def test_off_centre_valid_size_is_refused(tmp_path):
    # micron-small's crop_to_factor floors sizes: valid_min + 1 in y/x gives the same output, so
    # input - output becomes odd and no symmetric halo describes the crop
    preset = get_preset("micron-small")
    odd = (preset.valid_min[0], preset.valid_min[1] + 1, preset.valid_min[2] + 1)
    out = meta_output_shape(preset, (1, 1, *odd))
    assert (odd[1] - out[3]) % 2 == 1
    bad = dataclasses.replace(preset, valid_min=odd)
    with pytest.raises(ExportCheckFailed, match="is not input - 2·halo"):
        export_bundle(_opts(tmp_path / "micron-odd", preset=bad))
    _no_leftovers(tmp_path, "micron-odd")


def test_existing_folder_needs_force(good_bundle, tmp_path):
    b = _copy(good_bundle, tmp_path)
    with pytest.raises(InvalidInput, match="already exists"):
        export_bundle(_opts(b))
    (b / "old-marker").write_text("x")
    export_bundle(_opts(b, force=True, seed=3))
    assert not (b / "old-marker").exists()
    validate_bundle(b)
    _no_leftovers_but(b)


def _no_leftovers_but(bundle: Path) -> None:
    assert [p.name for p in bundle.parent.iterdir()] == [bundle.name]


def test_bad_id_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="bundle id"):
        export_bundle(_opts(tmp_path / "Bad Name"))


# ---- checkpoints --------------------------------------------------------------------------------


def test_checkpoint_of_another_network_names_keys_and_shapes(tmp_path):
    torch.save(get_preset("lsd-small-vanilla").build().state_dict(), tmp_path / "vanilla.pt")
    with pytest.raises(InvalidInput) as info:
        export_bundle(
            _opts(tmp_path / "b", preset="lsd-small-mtlsd", checkpoint=tmp_path / "vanilla.pt")
        )
    msg = str(info.value)
    assert "does not fit preset 'lsd-small-mtlsd'" in msg
    assert "missing: heads.lsds.weight" in msg  # mtlsd has an LSD head vanilla lacks
    assert "with other shapes: unet.right.0.0.convs.0.weight" in msg  # 14 vs 8 top channels
    _no_leftovers(tmp_path, "b")


def test_checkpoint_for_another_preset_name(tmp_path):
    net = get_preset(FAST).build()
    torch.save({"model_state_dict": net.state_dict(), "preset": "synister-fafb"}, tmp_path / "c.pt")
    with pytest.raises(InvalidInput, match="trained for preset 'synister-fafb'"):
        export_bundle(_opts(tmp_path / "b", checkpoint=tmp_path / "c.pt"))


def test_checkpoint_that_is_not_a_state_dict(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(InvalidInput, match="cannot read checkpoint"):
        export_bundle(_opts(tmp_path / "b", checkpoint=tmp_path / "junk.pt"))
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(InvalidInput, match="holds a list"):
        export_bundle(_opts(tmp_path / "b", checkpoint=tmp_path / "list.pt"))


TRAINING = {
    "data": {"description": "synthetic synapses", "synthetic": True, "held_out": "seed 99 volume"},
    "iterations": 1200,
    "seed": 7,
    "batch_size": 4,
    "final_losses": {"cross_entropy": 0.41},
    "held_out_metrics": {"accuracy": 0.83},
}


def test_gunpowder_checkpoint_with_training_record(tmp_path):
    torch.manual_seed(123)
    net = get_preset(FAST).build().eval()
    ckpt = {
        "model_state_dict": {f"module.{k}": v for k, v in net.state_dict().items()},  # DDP prefix
        "optimizer_state_dict": {},
        "preset": FAST,
        "training": TRAINING,
    }
    torch.save(ckpt, tmp_path / "model_checkpoint_1200")
    out = tmp_path / "trained"
    bundle = export_bundle(_opts(out, checkpoint=tmp_path / "model_checkpoint_1200"))
    assert bundle["trained"] is True and bundle["training"] == TRAINING
    assert "UNTRAINED" not in bundle["description"]
    x = np.load(out / "test_input.npy") * np.float32(2 / 255) - np.float32(1)
    with torch.no_grad():
        expected = net(torch.from_numpy(x.astype(np.float32))).numpy()
    np.testing.assert_allclose(np.load(out / "test_output.npy"), expected, atol=1e-6)
    assert validate_bundle(out)["training"]["iterations"] == 1200


def test_malformed_training_record_is_refused(tmp_path):
    net = get_preset(FAST).build()
    bad = {**TRAINING, "iterations": "many"}
    torch.save({"model_state_dict": net.state_dict(), "training": bad}, tmp_path / "c.pt")
    with pytest.raises(
        InvalidInput, match=r"checkpoint .*: training does not match(.|\n)*iterations: 'many'"
    ):
        export_bundle(_opts(tmp_path / "b", checkpoint=tmp_path / "c.pt"))
    _no_leftovers(tmp_path, "b")
