"""emzoo convert-tf: TF1 checkpoints of mala / funlib.learn.tensorflow nets → the PyTorch ports.

Each checkpoint is written by a TF1 graph-mode replica of the original network (tf_mala.py:
same variable names and kernel layouts, Adam slots included), and the converted PyTorch net
must reproduce TensorFlow's own output on the same input.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.tf

tf_mala = pytest.importorskip("tf_mala", reason="TensorFlow (the 'tf' extra) is not installed")
tf = tf_mala.tf
v1 = tf.compat.v1
Head, MalaConfig = tf_mala.Head, tf_mala.MalaConfig

from emzoo.cli import main  # noqa: E402
from emzoo.convert import load_tf_weights, plan_mapping, read_checkpoint  # noqa: E402
from emzoo.errors import CheckpointMismatch, InvalidInput  # noqa: E402
from emzoo.export.checkpoint import check_matches, load_checkpoint  # noqa: E402
from emzoo.export.schema import load_schema  # noqa: E402
from emzoo.nets import LsdNet, MicronNet, SynfulNet  # noqa: E402
from emzoo.registry import get_preset  # noqa: E402

TOL = 1e-5

# name → (TF replica config, input (z, y, x), PyTorch net of the same configuration)
CASES = {
    # LSD MTLSD (fib25 mknet naming: scope 'mtlsd', heads 'lsds' + 'affs'), anisotropic level
    "mtlsd": (
        MalaConfig(
            1,
            3,
            2,
            [(1, 2, 2), (2, 2, 2)],
            [Head("lsds", 10), Head("affs", 3)],
            num_fmaps_out=5,
            scope="mtlsd",
        ),
        (28, 44, 44),
        lambda: LsdNet(
            num_lsds=10,
            num_affinities=3,
            num_fmaps=3,
            fmap_inc_factors=2,
            downsample_factors=[[1, 2, 2], [2, 2, 2]],
            num_fmaps_out=5,
        ),
    ),
    # LSD 'lsd' net: head named 'embedding' (fib25 lsd mknet), 11-channel input like ACRLSD
    "lsd": (
        MalaConfig(11, 2, 3, [(2, 2, 2), (1, 2, 2)], [Head("embedding", 10)], scope="lsd"),
        (34, 44, 44),
        lambda: LsdNet(
            num_lsds=10,
            num_affinities=0,
            in_channels=11,
            num_fmaps=2,
            fmap_inc_factors=3,
            downsample_factors=[[2, 2, 2], [1, 2, 2]],
        ),
    ),
    # Synful dh_unet: funlib @0712fee decoder scopes, two decoders, no outer scope, linear heads
    "synful": (
        MalaConfig(
            1,
            2,
            3,
            [(1, 2, 2), (2, 2, 2)],
            [Head("partner_vector", 3, None, 0), Head("syn_indicator", 1, None, 1)],
            num_heads=2,
            style="funlib",
            scope="",
            step_counter="training_iteration",
        ),
        (28, 44, 44),
        lambda: SynfulNet(
            num_heads=2, num_fmaps=2, fmap_inc_factors=3, downsample_factors=[[1, 2, 2], [2, 2, 2]]
        ),
    ),
    # Micron: funlib master (crop_to_factor), head keeps conv_pass's default name, linear
    "micron": (
        MalaConfig(
            1,
            2,
            2,
            [(1, 3, 3), (1, 3, 3)],
            [Head("conv_pass", 10, None)],
            style="funlib",
            crop_to_factor=True,
            scope="setup_0",
        ),
        (24, 88, 88),
        lambda: MicronNet(
            num_fmaps=2, fmap_inc_factors=2, downsample_factors=[[1, 3, 3], [1, 3, 3]]
        ),
    ),
}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """name → (input, TF outputs by conv_pass name, checkpoint prefix); built once each."""
    root = tmp_path_factory.mktemp("tf_ckpts")
    cache: dict[str, tuple] = {}

    def get(name: str, cfg=None, shape=None):
        if name not in cache:
            c, s, _ = CASES.get(name, (cfg, shape, None))
            cache[name] = tf_mala.make_checkpoint(c, s, root / name / "train_net")
        return cache[name]

    return get


def _torch_heads(net, x):
    torch.set_num_threads(1)
    with torch.no_grad():
        return {k: v.numpy() for k, v in net.eval().forward_heads(torch.from_numpy(x)).items()}


@pytest.mark.parametrize("case", list(CASES))
def test_converted_port_reproduces_tensorflow(case, ckpt):
    x, tf_out, prefix = ckpt(case)
    net = CASES[case][2]()
    conv = load_tf_weights(net, prefix)
    ours = _torch_heads(net, x)
    assert set(ours) == set(conv.plan.heads)
    for head, tf_name in conv.plan.heads.items():
        ref = tf_out[tf_name]
        assert ours[head].shape == ref.shape, head
        assert ref.std() > 1e-3, f"{head}: TF output is flat, the comparison would prove nothing"
        err = float(np.abs(ours[head] - ref).max())
        assert err < TOL, f"{case} {head}: max |torch - tf| = {err:.3g}"
    # every PyTorch tensor came from the checkpoint, and only optimizer state was left over
    assert len(conv.plan.entries) == len(net.state_dict())
    assert conv.plan.skipped and all(
        n.endswith(("/Adam", "/Adam_1", "beta1_power", "beta2_power", "training_iteration"))
        for n in conv.plan.skipped
    )


def test_scope_and_naming_are_detected(ckpt):
    expect = {
        "mtlsd": ("mtlsd/", "mala"),
        "synful": ("", "funlib"),
        "micron": ("setup_0/", "funlib"),
    }
    for case, (scope, style) in expect.items():
        _, _, prefix = ckpt(case)
        conv = load_tf_weights(CASES[case][2](), prefix)
        assert (conv.plan.scope, conv.plan.style) == (scope, style)
    conv = load_tf_weights(CASES["synful"][2](), ckpt("synful")[2])
    assert (
        conv.plan.variable_map()["unet.up.1.0.weight"] == "decoder_1_layer_0/unet_up_1_to_0/kernel"
    )
    assert conv.plan.variable_map()["unet.right.0.1.convs.1.bias"] == (
        "decoder_0_layer_1/unet_layer_1_right_1/bias"
    )
    conv = load_tf_weights(CASES["mtlsd"][2](), ckpt("mtlsd")[2])
    assert conv.plan.variable_map()["heads.affs.weight"] == "mtlsd/affs_0/kernel"
    assert conv.plan.variable_map()["unet.up.0.1.weight"] == "mtlsd/unet_up_2_to_1/kernel"


def test_transposed_conv_needs_no_kernel_flip():
    """TF conv3d_transpose kernel (kz,ky,kx,out,in) → ConvTranspose3d (in,out,kz,ky,kx), unflipped."""
    from emzoo.convert.tf_mapping import convert_array

    rng = np.random.default_rng(1)
    factor = (1, 2, 3)
    x = rng.normal(size=(1, 3, 5, 3, 3))  # NDHWC: (z, y, x) = (3, 5, 3), 3 channels
    kernel = rng.normal(size=(*factor, 2, 3))  # (kz, ky, kx, out=2, in=3)
    y_tf = tf.nn.conv3d_transpose(
        x, kernel, [1, 3, 10, 9, 2], strides=[1, *factor, 1], padding="VALID"
    ).numpy()
    up = torch.nn.ConvTranspose3d(3, 2, factor, stride=factor, bias=False).double()
    xt = torch.from_numpy(x.transpose(0, 4, 1, 2, 3).copy())
    with torch.no_grad():
        up.weight.copy_(torch.from_numpy(convert_array(kernel)))
        y_torch = up(xt).numpy().transpose(0, 2, 3, 4, 1)
        up.weight.copy_(torch.from_numpy(convert_array(kernel[::-1, ::-1, ::-1].copy())))
        y_flipped = up(xt).numpy().transpose(0, 2, 3, 4, 1)
    assert np.abs(y_torch - y_tf).max() < 1e-12
    assert np.abs(y_flipped - y_tf).max() > 0.1  # a flip would be visible


def test_missing_variable_is_named(ckpt):
    cfg, shape, _ = CASES["mtlsd"]
    no_affs = MalaConfig(**{**cfg.__dict__, "heads": [Head("lsds", 10)]})
    _, _, prefix = ckpt("mtlsd-no-affs", no_affs, shape)
    with pytest.raises(CheckpointMismatch) as info:
        load_tf_weights(CASES["mtlsd"][2](), prefix)
    err = info.value
    assert [m.split()[0] for m in err.missing] == ["mtlsd/affs_0/kernel", "mtlsd/affs_0/bias"]
    assert not err.unexpected and not err.mismatched
    text = str(err)
    assert "missing from the checkpoint (2)" in text and "heads.affs.weight" in text
    assert "looked for 'mtlsd/affs_0', 'mtlsd/conv_pass_0'" in text
    assert "heads lsds_0→10" in text  # what the checkpoint does hold


def test_wrong_shape_is_named(ckpt):
    cfg, shape, _ = CASES["mtlsd"]
    wider = MalaConfig(**{**cfg.__dict__, "num_fmaps": 4})
    _, _, prefix = ckpt("mtlsd-wider", wider, shape)
    with pytest.raises(CheckpointMismatch) as info:
        load_tf_weights(CASES["mtlsd"][2](), prefix)
    err = info.value
    assert not err.missing and not err.unexpected
    first = err.mismatched[0]
    assert first.startswith("unet.left.0.convs.0.weight: PyTorch [3, 1, 3, 3, 3]")
    assert "mtlsd/unet_layer_0_left_0/kernel TF [3, 3, 3, 1, 4]" in first
    assert "fmaps 4/8/16" in str(err)


def test_unexpected_variable_is_named(ckpt):
    # an LSD-only port cannot take an MTLSD checkpoint silently: the affs head is left over
    net = LsdNet(
        num_lsds=10,
        num_affinities=0,
        num_fmaps=3,
        fmap_inc_factors=2,
        downsample_factors=[[1, 2, 2], [2, 2, 2]],
        num_fmaps_out=5,
    )
    with pytest.raises(CheckpointMismatch) as info:
        load_tf_weights(net, ckpt("mtlsd")[2])
    assert info.value.unexpected == ["mtlsd/affs_0/bias [3]", "mtlsd/affs_0/kernel [1, 1, 1, 5, 3]"]
    assert not info.value.missing and not info.value.mismatched


def test_scope_override_and_ambiguity(ckpt):
    shapes = read_checkpoint(ckpt("mtlsd")[2]).shapes
    torch_shapes = {k: tuple(v.shape) for k, v in CASES["mtlsd"][2]().state_dict().items()}
    assert plan_mapping(torch_shapes, shapes, scope="mtlsd").scope == "mtlsd/"
    with pytest.raises(InvalidInput, match=r"scope 'vanilla' holds no U-Net.*found: 'mtlsd'"):
        plan_mapping(torch_shapes, shapes, scope="vanilla")
    two = {**shapes, **{"stage1/" + k: v for k, v in shapes.items()}}
    with pytest.raises(InvalidInput, match=r"several U-Nets, scopes 'mtlsd', 'stage1/mtlsd'"):
        plan_mapping(torch_shapes, two)
    assert plan_mapping(torch_shapes, two, scope="stage1/mtlsd").outside_scope


def test_head_override(ckpt):
    # the 'lsd' checkpoint names its head 'embedding'; a wrong override is reported, not guessed
    with pytest.raises(CheckpointMismatch, match="looked for 'lsd/lsds_0'"):
        load_tf_weights(CASES["lsd"][2](), ckpt("lsd")[2], head_names={"lsds": "lsds"})
    conv = load_tf_weights(CASES["lsd"][2](), ckpt("lsd")[2], head_names={"lsds": "embedding"})
    assert conv.plan.heads == {"lsds": "embedding"}


def test_checkpoint_path_forms_and_errors(ckpt, tmp_path):
    prefix = ckpt("mtlsd")[2]
    for form in (
        prefix,
        prefix + ".index",
        prefix + ".data-00000-of-00001",
        str(Path(prefix).parent),
    ):
        assert read_checkpoint(form).prefix == prefix
    with pytest.raises(
        InvalidInput, match=r"no TensorFlow checkpoint .*next to it: train_net_checkpoint_10"
    ):
        read_checkpoint(prefix[:-2] + "99")
    with pytest.raises(InvalidInput, match="has no 'checkpoint' file"):
        read_checkpoint(tmp_path)
    # a downloaded folder whose index file names the training cluster's absolute path
    moved = tmp_path / "downloaded"
    moved.mkdir()
    for f in Path(prefix).parent.glob(Path(prefix).name + ".*"):
        shutil.copy(f, moved / f.name)
    (moved / "checkpoint").write_text(
        'model_checkpoint_path: "/nrs/funke/setup02/train_net_checkpoint_10"\n'
        'all_model_checkpoint_paths: "/nrs/funke/setup02/train_net_checkpoint_10"\n'
    )
    assert read_checkpoint(moved).prefix == str(moved / "train_net_checkpoint_10")


def test_missing_tensorflow_names_the_extra(ckpt):
    # a fresh interpreter where 'import tensorflow' fails, as on an install without the extra
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from emzoo.cli import main\n"
        f"sys.exit(main(['convert-tf', '--list', '--checkpoint', {ckpt('mtlsd')[2]!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 5, proc.stderr
    assert "needs TensorFlow" in proc.stderr and "pip install 'emzoo[tf]'" in proc.stderr


def _replica_of(preset, scope: str):
    """The TF1 network an LsdNet preset ports, named like the fib25 mknet.py files."""
    kw = preset.kwargs
    heads = [Head("lsds", kw["num_lsds"])] if kw["num_lsds"] else []
    heads += [Head("affs", kw["num_affinities"])] if kw["num_affinities"] else []
    return MalaConfig(
        kw["in_channels"],
        kw["num_fmaps"],
        kw["fmap_inc_factors"],
        [tuple(f) for f in kw["downsample_factors"]],
        heads,
        kernel_size_down=kw["kernel_size_down"],
        kernel_size_up=kw["kernel_size_up"],
        num_fmaps_out=kw.get("num_fmaps_out"),
        crop_to_factor=kw["crop_to_factor"],
        scope=scope,
    )


@pytest.fixture(scope="module")
def preset_ckpt(ckpt):
    preset = get_preset("lsd-small-mtlsd")
    return preset, *ckpt("lsd-small-mtlsd", _replica_of(preset, "mtlsd"), preset.valid_min)


def test_cli_converts_a_registered_preset_for_export(preset_ckpt, tmp_path, capsys):
    preset, x, tf_out, prefix = preset_ckpt
    out = tmp_path / "mtlsd.pt"
    argv = ["convert-tf", "--preset", preset.name, "--checkpoint", prefix, "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tf_heads"] == {"lsds": "lsds", "affs": "affs"}

    saved = torch.load(out, map_location="cpu", weights_only=True)
    assert (saved["preset"], saved["source"], saved["tf_scope"]) == (
        preset.name,
        "tf-checkpoint",
        "mtlsd",
    )
    assert saved["iteration"] == 10 and saved["training"]["iterations"] == 10
    assert saved["training"]["optimizer"] == "Adam"
    defs = load_schema()["$defs"]
    jsonschema.Draft202012Validator({"$ref": "#/$defs/training", "$defs": defs}).validate(
        saved["training"]
    )

    # what `emzoo export --checkpoint` does with the file, then the outputs against TF's
    loaded = load_checkpoint(out, preset)
    net = preset.build()
    check_matches(net, loaded, preset)
    net.load_state_dict(loaded.state_dict)
    ours = _torch_heads(net, x)
    for head in ("lsds", "affs"):
        assert tf_out[head].std() > 1e-3
        assert np.abs(ours[head] - tf_out[head]).max() < TOL, head


def test_cli_mismatch_exits_3_and_writes_nothing(preset_ckpt, tmp_path, capsys):
    _, _, _, prefix = preset_ckpt
    out = tmp_path / "vanilla.pt"
    argv = ["convert-tf", "--preset", "lsd-small-vanilla", "--checkpoint", prefix]
    assert main([*argv, "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "unexpected in the checkpoint (2)" in err and "mtlsd/lsds_0/kernel" in err
    assert "shape mismatch" in err and "unet.right.0.0.convs.0.weight" in err
    assert "hint: pick the preset" in err
    assert not out.exists()


def test_cli_lists_variables(preset_ckpt, capsys):
    _, _, _, prefix = preset_ckpt
    assert main(["convert-tf", "--list", "--checkpoint", prefix]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "mtlsd/unet_layer_0_left_0/kernel  [3, 3, 3, 1, 8]" in lines
    assert "mtlsd/affs_0/kernel  [1, 1, 1, 14, 3]" in lines
