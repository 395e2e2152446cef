"""A TF1 (graph-mode) replica of the originals' U-Nets, for testing ``emzoo convert-tf``.

Builds the networks the way mala.networks.unet / funlib.learn.tensorflow.models.unet did, with
the same variable names and kernel layouts, so a checkpoint saved here looks like the originals'
checkpoints to the converter:

* conv_pass(name): one conv per kernel size, variables '<name>_<i>/kernel' (kz, ky, kx, in, out)
  and '<name>_<i>/bias'; valid padding, activation after every conv.
* U-Net: 'unet_layer_<l>_left_<i>', max-pool 'unet_down_<l>_to_<l+1>' (no variables),
  transposed conv 'unet_up_<l+1>_to_<l>' (kernel = stride = factor, kernel (kz, ky, kx, out, in),
  C_{l+1} → C_l, ReLU), centre crop of the skip, concat [skip, up], 'unet_layer_<l>_right_<i>'.
  style "funlib" (funlib.learn.tensorflow ≥ 0712fee) puts each decoder level in the variable
  scope 'decoder_<h>_layer_<l>/' and supports several decoders (num_heads).
* heads: conv_pass with kernel_sizes=[1] and a name such as 'affs' → 'affs_0'.

Keras 3 (TF ≥ 2.16) has no tf.compat.v1.layers, so the layers are written out with
get_variable + tf.nn ops; the variable names and layouts are exactly those tf.layers creates.
Tensors flow channels-last internally (TF's CPU conv3d has no channels-first kernel); the
placeholder and outputs are (1, C, z, y, x) like the originals'.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # plain Eigen kernels as the reference
import tensorflow as tf

v1 = tf.compat.v1


@dataclass
class Head:
    tf_name: str  # conv_pass name, e.g. "affs" → variables 'affs_0/kernel'
    channels: int
    activation: str | None = "sigmoid"
    decoder: int = 0  # which decoder's output feeds this head (funlib num_heads > 1)


@dataclass
class MalaConfig:
    in_channels: int
    num_fmaps: int
    fmap_inc_factor: int
    downsample_factors: list[tuple[int, int, int]]
    heads: list[Head]
    kernel_size_down: list[list[tuple[int, int, int]]] | None = None
    kernel_size_up: list[list[tuple[int, int, int]]] | None = None
    num_fmaps_out: int | None = None
    num_heads: int = 1  # number of decoders (funlib style only)
    style: str = "mala"  # "mala" or "funlib"
    crop_to_factor: bool = False  # funlib.learn.tensorflow master (Micron)
    scope: str = "net"  # outer variable scope ('' for none, like Synful)
    dtype: str = "float32"
    step_counter: str | None = None  # e.g. "training_iteration" (Synful)


def _kernel_init():
    # tf.layers default (glorot uniform); the originals trained from this
    return v1.glorot_uniform_initializer()


def _bias_init():
    # The originals initialise biases to zero; random biases make the test see a wrong mapping.
    return v1.random_normal_initializer(stddev=0.1)


def _conv_pass(x, kernel_sizes, num_fmaps, activation, name, dtype):
    act = getattr(tf.nn, activation) if activation else None
    for i, k in enumerate(kernel_sizes):
        k = tuple(k) if not isinstance(k, int) else (k, k, k)
        cin = x.shape[-1]
        with v1.variable_scope(f"{name}_{i}"):
            kernel = v1.get_variable("kernel", (*k, cin, num_fmaps), dtype, _kernel_init())
            bias = v1.get_variable("bias", (num_fmaps,), dtype, _bias_init())
        x = tf.nn.conv3d(x, kernel, strides=[1, 1, 1, 1, 1], padding="VALID") + bias
        if act is not None:
            x = act(x)
    return x


def _upsample(x, factor, num_fmaps, name, dtype):
    cin = x.shape[-1]
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", (*tuple(factor), num_fmaps, cin), dtype, _kernel_init())
        bias = v1.get_variable("bias", (num_fmaps,), dtype, _bias_init())
    b, z, y, xx, _ = x.shape
    out_shape = [b, z * factor[0], y * factor[1], xx * factor[2], num_fmaps]
    up = tf.nn.conv3d_transpose(x, kernel, out_shape, strides=[1, *factor, 1], padding="VALID")
    return tf.nn.relu(up + bias)


def _crop(x, spatial):
    s = x.shape[1:4]
    off = [(a - b) // 2 for a, b in zip(s, spatial, strict=True)]
    return x[
        :,
        off[0] : off[0] + spatial[0],
        off[1] : off[1] + spatial[1],
        off[2] : off[2] + spatial[2],
        :,
    ]


def _crop_to_factor(x, factor, kernel_sizes):
    spatial = list(x.shape[1:4])
    conv_crop = [
        sum((k if isinstance(k, int) else k[d]) - 1 for k in kernel_sizes) for d in range(3)
    ]
    target = [
        math.floor((s - c) / f) * f + c for s, c, f in zip(spatial, conv_crop, factor, strict=True)
    ]
    return x if target == spatial else _crop(x, target)


def _unet(x, cfg: MalaConfig, layer, num_fmaps, ksd, ksu):
    dtype = cfg.dtype
    f_left = _conv_pass(x, ksd[layer], num_fmaps, "relu", f"unet_layer_{layer}_left", dtype)
    if layer == len(cfg.downsample_factors):
        return [f_left] * cfg.num_heads
    factor = list(cfg.downsample_factors[layer])
    g_in = tf.nn.max_pool3d(f_left, [1, *factor, 1], [1, *factor, 1], "VALID")
    g_outs = _unet(g_in, cfg, layer + 1, num_fmaps * cfg.fmap_inc_factor, ksd, ksu)
    f_outs = []
    for h, g_out in enumerate(g_outs):
        scope = f"decoder_{h}_layer_{layer}" if cfg.style == "funlib" else None
        with v1.variable_scope(scope, default_name=None) if scope else _null():
            up = _upsample(g_out, factor, num_fmaps, f"unet_up_{layer + 1}_to_{layer}", dtype)
            if cfg.crop_to_factor:
                prod = np.prod(np.array(cfg.downsample_factors[layer:]), axis=0).tolist()
                up = _crop_to_factor(up, prod, ksu[layer])
            skip = _crop(f_left, list(up.shape[1:4]))
            f_right = tf.concat([skip, up], axis=-1)
            out = num_fmaps
            if layer == 0 and cfg.num_fmaps_out is not None:
                out = max(cfg.num_fmaps_out, num_fmaps)
            f_outs.append(
                _conv_pass(f_right, ksu[layer], out, "relu", f"unet_layer_{layer}_right", dtype)
            )
    return f_outs


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def build(cfg: MalaConfig, input_shape: tuple[int, int, int]):
    """Build the network in the current default graph; returns (placeholder, {head: output})."""
    assert cfg.style in ("mala", "funlib")
    assert cfg.num_heads == 1 or cfg.style == "funlib", "mala has a single decoder"
    levels = len(cfg.downsample_factors) + 1
    ksd = cfg.kernel_size_down or [[(3, 3, 3), (3, 3, 3)]] * levels
    ksu = cfg.kernel_size_up or [[(3, 3, 3), (3, 3, 3)]] * (levels - 1)
    with v1.variable_scope(cfg.scope) if cfg.scope else _null():
        raw = v1.placeholder(cfg.dtype, (1, cfg.in_channels, *input_shape), name="raw")
        x = tf.transpose(raw, [0, 2, 3, 4, 1])
        feats = _unet(x, cfg, 0, cfg.num_fmaps, ksd, ksu)
        outputs = {}
        for head in cfg.heads:
            y = _conv_pass(
                feats[head.decoder], [1], head.channels, head.activation, head.tf_name, cfg.dtype
            )
            outputs[head.tf_name] = tf.transpose(y, [0, 4, 1, 2, 3])
    return raw, outputs


def make_checkpoint(
    cfg: MalaConfig, input_shape, basename: str | Path, *, seed: int = 0, iteration: int = 10
):
    """Build, initialise, run once, save like the originals' train.py (Adam slots included).

    Returns (input array, {head tf_name: output array}, saved checkpoint prefix).
    """
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        raw, outputs = build(cfg, input_shape)
        with v1.variable_scope(cfg.scope) if cfg.scope else _null():
            loss = tf.add_n([tf.reduce_sum(tf.square(o)) for o in outputs.values()])
            step = None
            if cfg.step_counter:  # Synful counts iterations in a non-trainable variable
                step = v1.Variable(1.0, name=cfg.step_counter, trainable=False)
            # same optimizer as the originals' mknet.py, so slot variables exist in the file
            v1.train.AdamOptimizer(0.5e-4, beta1=0.95, beta2=0.999, epsilon=1e-8).minimize(
                loss, global_step=step
            )
        saver = v1.train.Saver()
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1, 1, size=raw.shape).astype(cfg.dtype)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            values = sess.run(outputs, {raw: x})
            # gunpowder's tensorflow.Train names checkpoints '<basename>_checkpoint_<iteration>'
            path = saver.save(sess, f"{basename}_checkpoint_{iteration}")
    return x, values, path
