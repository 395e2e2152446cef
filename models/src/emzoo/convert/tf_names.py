"""The originals' TensorFlow variable names: what to skip, where the network sits, head names.

Confirmed by reading funkey/mala mala/networks/unet.py, funkelab/funlib.learn.tensorflow
models/unet.py (@0712fee and master), the LSD example mknet.py files (funkelab/lsd
lsd/tutorial/example_nets/fib25/*), Synful scripts/train/setup01/generate_network.py and
Micron micron/network/mknet.py:

* tf.layers.conv3d(name=N) creates 'N/kernel' (kz, ky, kx, in, out) and 'N/bias';
  conv_pass(name=P) names its convs 'P_0', 'P_1', … (one per kernel size).
* U-Net encoder: conv_pass 'unet_layer_<l>_left'; pooling 'unet_down_<l>_to_<l+1>' (no variables).
* U-Net decoder, mala: transposed conv 'unet_up_<l+1>_to_<l>' (kernel (kz, ky, kx, out, in)),
  conv_pass 'unet_layer_<l>_right'. funlib.learn.tensorflow (@0712fee and later) wraps each
  decoder level in the variable scope 'decoder_<h>_layer_<l>/', even with a single decoder.
* Heads: conv_pass(kernel_sizes=[1], name=…) → '<name>_0'. LSD fib25: vanilla 'affs',
  lsd 'embedding', mtlsd 'lsds' + 'affs', acrlsd 'affs'; zebrafinch mtlsd 'embedding' + 'affs';
  some LSD scripts and Micron keep conv_pass's default name 'conv_pass'; Synful
  'partner_vector' (decoder 0) and 'syn_indicator' (decoder 1 if two decoders).
* Outer scope: the mknet's tf.variable_scope ('vanilla', 'lsd', 'mtlsd', 'acrlsd', 'setup02',
  'setup_0', …) or none (Synful).
"""

from __future__ import annotations

import re

# Variables that are training state, not weights: optimizer slots and step counters.
_SLOT_LEAF = re.compile(
    r"^(Adam(_\d+)?|Momentum|RMSProp(_\d+)?|Adagrad|Adadelta(_\d+)?|Ftrl(_\d+)?"
    r"|ExponentialMovingAverage)$"
)
_STATE_NAMES = {"beta1_power", "beta2_power", "global_step", "training_iteration"}


def is_training_state(name: str) -> bool:
    """Optimizer slots ('…/Adam', '…/Adam_1'), Adam's beta powers and step counters."""
    leaf = name.rsplit("/", 1)[-1]
    return bool(_SLOT_LEAF.match(leaf)) or leaf in _STATE_NAMES


# The first encoder conv exists in every mala / funlib U-Net; it tells the scope.
_ANCHOR = "unet_layer_0_left_0/kernel"


def find_scopes(names: list[str]) -> list[str]:
    """Outer scopes ('' or 'vanilla/') of every U-Net in the checkpoint, sorted."""
    return sorted(n[: -len(_ANCHOR)] for n in names if n == _ANCHOR or n.endswith("/" + _ANCHOR))


def normalize_scope(scope: str) -> str:
    scope = scope.strip("/")
    return scope + "/" if scope else ""


def decoder_style(names: set[str], scope: str) -> str:
    """'funlib' if decoder levels sit in 'decoder_<h>_layer_<l>/' scopes, else 'mala'."""
    return "funlib" if any(n.startswith(scope + "decoder_0_layer_0/") for n in names) else "mala"


def left_conv(level: int, index: int) -> str:
    return f"unet_layer_{level}_left_{index}"


def up_conv(style: str, decoder: int, level: int) -> str:
    return _decoder(style, decoder, level) + f"unet_up_{level + 1}_to_{level}"


def right_conv(style: str, decoder: int, level: int, index: int) -> str:
    return _decoder(style, decoder, level) + f"unet_layer_{level}_right_{index}"


def _decoder(style: str, decoder: int, level: int) -> str:
    return f"decoder_{decoder}_layer_{level}/" if style == "funlib" else ""


# PyTorch head name → the conv_pass names the originals used for it, in order of preference.
# 'conv_pass' is conv_pass's default name, used where the mknet did not name its head.
HEAD_NAMES: dict[str, tuple[str, ...]] = {
    "affs": ("affs", "conv_pass"),
    "lsds": ("lsds", "embedding", "conv_pass"),
    "partner_vector": ("partner_vector",),
    "syn_indicator": ("syn_indicator",),
}


def head_candidates(head: str, overrides: dict[str, str] | None = None) -> tuple[str, ...]:
    if overrides and head in overrides:
        return (overrides[head],)
    return HEAD_NAMES.get(head, (head,))
