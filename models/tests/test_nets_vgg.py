"""Synister's Vgg3D: the paper configuration's layout and size, the exported softmax form."""

from __future__ import annotations

import json

import pytest
import torch

from emzoo.nets.vgg import SYNISTER_CLASSES, SynisterNet, Vgg3D
from emzoo.registry import get_preset

SMALL_IN = tuple(get_preset("synister-small").train_input_shape)

torch.set_num_threads(1)


def _meta(name: str):
    with torch.device("meta"):
        return get_preset(name).build()


def test_fafb_net_size_and_output():
    net = _meta("synister-fafb")
    total = sum(p.numel() for p in net.parameters())
    fc = sum(p.numel() for p in net.classifier.parameters())
    # by hand: convs sum(in·out·27 + out) = 494,460, BN affine 2·360 = 720 (features 0.495 M);
    # FC 76800·4096+4096 + 4096·4096+4096 + 4096·6+6 = 331,382,790. Sheet: 331.9 M / 331.4 M.
    assert fc == 331_382_790
    assert total == 331_382_790 + 494_460 + 720
    assert total / 1e6 == pytest.approx(331.9, abs=0.05)
    assert fc / 1e6 == pytest.approx(331.4, abs=0.05)
    # (16,160,160) -> (16,80,80) -> (16,40,40) -> (16,20,20) -> (8,10,10), 96 channels
    assert net.classifier[0].in_features == 96 * 8 * 10 * 10 == 76800
    assert [m.out_features for m in net.classifier if isinstance(m, torch.nn.Linear)] == [
        4096,
        4096,
        6,
    ]
    out = net(torch.empty(2, 1, 16, 160, 160, device="meta"))
    assert tuple(out.shape) == (2, 6)


def test_layer_layout_matches_funlib_learn_torch_vgg3d_names():
    # funlib's Vgg3D: per conv [Conv3d, BatchNorm3d, ReLU], then MaxPool3d per block;
    # classifier [Linear, ReLU, Dropout] x2 + Linear. Original checkpoints load by these keys.
    keys = _meta("synister-fafb").state_dict()
    convs = [0, 3, 7, 10, 14, 17, 21, 24]
    channels = [12, 12, 24, 24, 48, 48, 96, 96]
    for index, c in zip(convs, channels, strict=True):
        assert tuple(keys[f"features.{index}.weight"].shape)[:1] == (c,)
        assert f"features.{index + 1}.running_mean" in keys
    assert tuple(keys["features.0.weight"].shape) == (12, 1, 3, 3, 3)
    for index in (0, 3, 6):
        assert f"classifier.{index}.weight" in keys
    assert "features.6.weight" not in keys  # a max-pool


def test_forward_is_softmax_of_logits_and_eval_is_deterministic():
    torch.manual_seed(0)
    net = get_preset("synister-small").build().eval()
    x = torch.randn(3, 1, *SMALL_IN)
    logits = net.forward_heads(x)["logits"]
    probs = net(x)
    assert probs.shape == (3, 6)
    torch.testing.assert_close(probs, torch.softmax(logits, 1))
    torch.testing.assert_close(probs.sum(1), torch.ones(3))
    torch.testing.assert_close(net(x), probs)  # dropout off, BN running stats in eval


def test_class_order_and_round_trip():
    assert tuple(SYNISTER_CLASSES) == (
        "gaba",
        "acetylcholine",
        "glutamate",
        "serotonin",
        "octopamine",
        "dopamine",
    )
    assert get_preset("synister-fafb").output_channel_names == tuple(SYNISTER_CLASSES)
    net = get_preset("synister-small").build().eval()
    twin = SynisterNet(**json.loads(json.dumps(net.init_kwargs))).eval()
    twin.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(1, 1, *SMALL_IN)
    torch.testing.assert_close(twin(x), net(x))


def test_torchscript_dynamic_batch():
    net = get_preset("synister-small").build().eval()
    scripted = torch.jit.script(net)
    for batch in (1, 4):
        x = torch.randn(batch, 1, *SMALL_IN)
        torch.testing.assert_close(scripted(x), net(x))
    assert set(scripted.forward_heads(x)) == {"logits"}


def test_indivisible_input_size_is_rejected():
    with pytest.raises(ValueError, match="not divisible"):
        Vgg3D(input_size=[10, 32, 32], downsample_factors=[[1, 2, 2], [2, 2, 2], [2, 2, 2]])


def test_isotropic_variant_pools_evenly():
    net = _meta("synister-fibsem-iso")
    assert net.classifier[0].in_features == 96 * 5 * 5 * 5
    assert tuple(net(torch.empty(1, 1, 80, 80, 80, device="meta")).shape) == (1, 6)
