"""The TensorFlow-era valid U-Net (mala / funlib.learn.tensorflow) and the LSD, Synful and Micron nets.

Self-contained on purpose: this file imports only torch and the standard library, because the
exporter copies it verbatim as a bundle's ``architecture.py`` (bioimage.io pytorch_state_dict).

Topology, as in mala.networks.unet and funlib.learn.tensorflow's unet (not funlib.learn.torch's):
per level two valid 3x3x3 convolutions + ReLU; max-pool down; transposed convolution up
(kernel = stride = factor) from C(l+1) to C(l) channels followed by ReLU; optional crop to
factor (funlib.learn.tensorflow master, used by Micron); centre crop of the skip; concat
[skip, up]; two valid convolutions + ReLU. Tensors are (b, c, z, y, x).

Crops are computed from runtime shapes (no cached sizes), so TorchScript and torch.export keep
batch and spatial sizes dynamic.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Kernel = int | list[int]


@torch.jit.interface
class _Stage(nn.Module):
    # Lets TorchScript index ModuleLists with a loop variable (the decoder runs bottom-up).
    def forward(self, x: Tensor) -> Tensor:
        pass


def _triple(k: Kernel) -> list[int]:
    return [int(k)] * 3 if isinstance(k, int) else [int(v) for v in k]


def _center_crop(x: Tensor, shape: list[int]) -> Tensor:
    """Crops the spatial dims of ``x`` to ``shape`` with offset floor((in - out) / 2), like mala."""
    for d in range(3):
        offset = (x.shape[d + 2] - shape[d]) // 2
        x = x.narrow(d + 2, offset, shape[d])
    return x


def _crop_to_factor(x: Tensor, factor: list[int], conv_crop: list[int]) -> Tensor:
    """Crops to the largest n·factor + conv_crop <= size per axis (translation equivariance).

    funlib.learn.tensorflow (master) does this right after each upsampling; the following
    convolutions then shrink the map to a multiple of the total downsampling factor.
    """
    target: list[int] = []
    for d in range(3):
        s = x.shape[d + 2]
        target.append(((s - conv_crop[d]) // factor[d]) * factor[d] + conv_crop[d])
    return _center_crop(x, target)


def _pad_to_input(y: Tensor, x: Tensor) -> Tensor:
    """Zero-pads the spatial dims of ``y`` back to those of ``x``, centred (pad = (in - out) / 2).

    Pads come from runtime shapes, so TorchScript and ONNX keep the sizes dynamic. The border is
    the halo a tiling consumer (bioimageio.core, ilastik) crops; its zeros are never used.
    """
    pads: list[int] = []
    for d in range(4, 1, -1):  # F.pad lists the last dim first: x, y, z
        total = x.shape[d] - y.shape[d]
        pads.append(total // 2)
        pads.append(total - total // 2)
    return F.pad(y, pads)


def init_like_tf(conv: nn.Conv3d | nn.ConvTranspose3d) -> None:
    """The originals' initialisation: tf.layers.conv3d / conv3d_transpose defaults (mala,
    funlib.learn.tensorflow), Glorot-uniform kernels and zero biases. PyTorch's default (Kaiming
    uniform with a = sqrt(5), random biases) has a third of the variance and random negative
    biases; in the small demo nets it left whole decoders dead (all-zero ReLUs, a constant
    Synful mask logit)."""
    nn.init.xavier_uniform_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class ConvPass(nn.Module):
    """Valid convolutions, each followed by ReLU (applied functionally: keys are convs.{i}.*)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: list[Kernel]) -> None:
        super().__init__()
        self.init_kwargs = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "kernel_sizes": [_triple(k) for k in kernel_sizes],
        }
        convs = []
        c = in_channels
        for k in kernel_sizes:
            convs.append(nn.Conv3d(c, out_channels, _triple(k)))
            c = out_channels
        self.convs = nn.ModuleList(convs)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = torch.relu(conv(x))
        return x


class UpConv(nn.ConvTranspose3d):
    """Transposed convolution, kernel = stride = factor, followed by ReLU (mala's ``upsample``)."""

    def __init__(self, in_channels: int, out_channels: int, factor: list[int]) -> None:
        super().__init__(in_channels, out_channels, kernel_size=factor, stride=factor)
        self.init_kwargs = {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "factor": list(factor),
        }

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.relu(F.conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding))


def _channels(num_fmaps: int, fmap_inc_factors: int | list[int], levels: int) -> list[int]:
    factors = (
        [fmap_inc_factors] * (levels - 1)
        if isinstance(fmap_inc_factors, int)
        else list(fmap_inc_factors)
    )
    if len(factors) != levels - 1:
        raise ValueError(
            f"fmap_inc_factors has {len(factors)} entries; need one per downsampling ({levels - 1})"
        )
    channels = [num_fmaps]
    for f in factors:
        channels.append(channels[-1] * int(f))
    return channels


class UNet(nn.Module):
    """Valid 3D U-Net with mala's channel wiring; ``forward`` returns one map per decoder.

    Args:
        in_channels: input channels (1 for raw; 11 for ACRLSD's second stage).
        num_fmaps: C0, channels of the top level.
        fmap_inc_factors: int or one factor per downsampling; C(l+1) = C(l) · f(l).
        downsample_factors: per downsampling [z, y, x] factors (max-pool and upsampling).
        kernel_size_down: per level (L lists) the kernel sizes of the left convolutions.
        kernel_size_up: per level 0..L-2 the kernel sizes of the right convolutions.
        num_fmaps_out: if given, the top right pass outputs max(num_fmaps_out, C0) channels.
        num_heads: number of decoders sharing one encoder (Synful's "dh_unet" uses 2).
        crop_to_factor: funlib.learn.tensorflow master's translation-equivariance crop (Micron).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_fmaps: int = 12,
        fmap_inc_factors: int | list[int] = 5,
        downsample_factors: list[list[int]] | None = None,
        kernel_size_down: list[list[Kernel]] | None = None,
        kernel_size_up: list[list[Kernel]] | None = None,
        num_fmaps_out: int | None = None,
        num_heads: int = 1,
        crop_to_factor: bool = False,
    ) -> None:
        super().__init__()
        if downsample_factors is None:
            downsample_factors = [[2, 2, 2], [2, 2, 2], [3, 3, 3]]
        downsample_factors = [_triple(f) for f in downsample_factors]
        levels = len(downsample_factors) + 1
        if kernel_size_down is None:
            kernel_size_down = [[3, 3]] * levels
        if kernel_size_up is None:
            kernel_size_up = [[3, 3]] * (levels - 1)
        kernel_size_down = [[_triple(k) for k in ks] for ks in kernel_size_down]
        kernel_size_up = [[_triple(k) for k in ks] for ks in kernel_size_up]
        if len(kernel_size_down) != levels or len(kernel_size_up) != levels - 1:
            raise ValueError(
                f"need {levels} kernel_size_down lists and {levels - 1} kernel_size_up lists, "
                f"got {len(kernel_size_down)} and {len(kernel_size_up)}"
            )
        if num_heads < 1:
            raise ValueError("num_heads must be >= 1")
        channels = _channels(num_fmaps, fmap_inc_factors, levels)

        self.init_kwargs = {
            "in_channels": in_channels,
            "num_fmaps": num_fmaps,
            "fmap_inc_factors": fmap_inc_factors
            if isinstance(fmap_inc_factors, int)
            else list(fmap_inc_factors),
            "downsample_factors": downsample_factors,
            "kernel_size_down": kernel_size_down,
            "kernel_size_up": kernel_size_up,
            "num_fmaps_out": num_fmaps_out,
            "num_heads": num_heads,
            "crop_to_factor": crop_to_factor,
        }
        self.num_levels = levels
        self.num_heads = num_heads
        self.channels = channels
        self.downsample_factors = downsample_factors
        self.crop_to_factor = crop_to_factor
        # crop_to_factor: product of this and all lower factors, and the right convs' shrinkage
        self.crop_factors = [
            [_prod(f[d] for f in downsample_factors[level:]) for d in range(3)]
            for level in range(levels - 1)
        ]
        self.conv_crops = [[sum(k[d] - 1 for k in ks) for d in range(3)] for ks in kernel_size_up]
        top_out = channels[0] if num_fmaps_out is None else max(num_fmaps_out, channels[0])
        self.out_channels = top_out

        self.left = nn.ModuleList(
            ConvPass(in_channels if level == 0 else channels[level - 1], channels[level], ks)
            for level, ks in enumerate(kernel_size_down)
        )
        self.up = nn.ModuleList(
            nn.ModuleList(
                UpConv(channels[level + 1], channels[level], downsample_factors[level])
                for level in range(levels - 1)
            )
            for _ in range(num_heads)
        )
        self.right = nn.ModuleList(
            nn.ModuleList(
                ConvPass(2 * channels[level], top_out if level == 0 else channels[level], ks)
                for level, ks in enumerate(kernel_size_up)
            )
            for _ in range(num_heads)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv3d | nn.ConvTranspose3d):
                init_like_tf(module)

    def forward(self, x: Tensor) -> list[Tensor]:
        skips: list[Tensor] = []
        f = x
        for level, conv_pass in enumerate(self.left):
            if level > 0:
                factor = self.downsample_factors[level - 1]
                f = F.max_pool3d(f, factor, factor)
            f = conv_pass(f)
            skips.append(f)

        outs: list[Tensor] = []
        for ups, rights in zip(self.up, self.right):  # noqa: B905 (TorchScript has no strict=)
            g = skips[-1]
            for level in range(self.num_levels - 2, -1, -1):
                up: _Stage = ups[level]
                right: _Stage = rights[level]
                g = up.forward(g)
                if self.crop_to_factor:
                    g = _crop_to_factor(g, self.crop_factors[level], self.conv_crops[level])
                skip = _center_crop(skips[level], [g.shape[2], g.shape[3], g.shape[4]])
                g = right.forward(torch.cat([skip, g], dim=1))
            outs.append(g)
        return outs


def _prod(values) -> int:
    p = 1
    for v in values:
        p *= int(v)
    return p


class _UNetTask(nn.Module):
    """A U-Net plus named 1x1x1 heads; subclasses define the heads and the exported form."""

    def __init__(self, unet_kwargs: dict[str, Any], pad_output: bool = False) -> None:
        super().__init__()
        self.unet = UNet(**unet_kwargs)
        # bioimage.io zoo form: output at the input's size, the invalid border (halo) zero-filled
        self.pad_output = pad_output

    def _finish(self, y: Tensor, x: Tensor) -> Tensor:
        return _pad_to_input(y, x) if self.pad_output else y

    def _head(self, channels: int) -> nn.Conv3d:
        head = nn.Conv3d(self.unet.out_channels, channels, 1)
        init_like_tf(head)
        return head


class LsdNet(_UNetTask):
    """LSD paper nets: "lsds" (10 local shape descriptors) and/or "affs" heads, all sigmoid.

    vanilla/baseline: num_lsds=0, num_affinities=3; lsd: 10, 0; mtlsd: 10, 3 with
    num_fmaps_out=14; long-range: 0, 12; acrlsd stage 2: in_channels=11 (raw + 10 LSDs), 0, 3.
    ``forward`` concatenates [lsds, affs] along channels.
    """

    def __init__(
        self,
        num_lsds: int = 0,
        num_affinities: int = 3,
        in_channels: int = 1,
        num_fmaps: int = 12,
        fmap_inc_factors: int | list[int] = 6,
        downsample_factors: list[list[int]] | None = None,
        kernel_size_down: list[list[Kernel]] | None = None,
        kernel_size_up: list[list[Kernel]] | None = None,
        num_fmaps_out: int | None = None,
        crop_to_factor: bool = False,
        pad_output: bool = False,
    ) -> None:
        unet_kwargs = {
            "in_channels": in_channels,
            "num_fmaps": num_fmaps,
            "fmap_inc_factors": fmap_inc_factors,
            "downsample_factors": downsample_factors,
            "kernel_size_down": kernel_size_down,
            "kernel_size_up": kernel_size_up,
            "num_fmaps_out": num_fmaps_out,
            "crop_to_factor": crop_to_factor,
        }
        super().__init__(unet_kwargs, pad_output)
        if num_lsds + num_affinities < 1:
            raise ValueError("an LsdNet needs num_lsds > 0 or num_affinities > 0")
        self.init_kwargs = {
            "num_lsds": num_lsds,
            "num_affinities": num_affinities,
            **{k: v for k, v in self.unet.init_kwargs.items() if k != "num_heads"},
            "pad_output": pad_output,
        }
        heads = {}
        if num_lsds > 0:
            heads["lsds"] = self._head(num_lsds)
        if num_affinities > 0:
            heads["affs"] = self._head(num_affinities)
        self.heads = nn.ModuleDict(heads)

    def forward_heads(self, x: Tensor) -> dict[str, Tensor]:
        f = self.unet(x)[0]
        out: dict[str, Tensor] = {}
        for name, head in self.heads.items():
            out[name] = torch.sigmoid(head(f))
        return out

    def forward(self, x: Tensor) -> Tensor:
        return self._finish(torch.cat(list(self.forward_heads(x).values()), dim=1), x)


class SynfulNet(_UNetTask):
    """Synful: "partner_vector" (3 ch, nm, linear) and "syn_indicator" (1 ch logit) heads.

    With num_heads=2 (the paper's "dh_unet", MT) vectors come from decoder 0 and the indicator
    from decoder 1; with one decoder both read the same map. ``forward`` returns
    [sigmoid(syn_indicator), vector_z, vector_y, vector_x] as in the originals' inference graph.
    """

    def __init__(
        self,
        num_heads: int = 1,
        in_channels: int = 1,
        num_fmaps: int = 4,
        fmap_inc_factors: int | list[int] = 5,
        downsample_factors: list[list[int]] | None = None,
        kernel_size_down: list[list[Kernel]] | None = None,
        kernel_size_up: list[list[Kernel]] | None = None,
        num_fmaps_out: int | None = None,
        crop_to_factor: bool = False,
        pad_output: bool = False,
    ) -> None:
        if num_heads not in (1, 2):
            raise ValueError("SynfulNet supports one shared decoder or two (num_heads 1 or 2)")
        if downsample_factors is None:
            downsample_factors = [[1, 3, 3], [1, 3, 3], [3, 3, 3]]
        super().__init__(
            {
                "in_channels": in_channels,
                "num_fmaps": num_fmaps,
                "fmap_inc_factors": fmap_inc_factors,
                "downsample_factors": downsample_factors,
                "kernel_size_down": kernel_size_down,
                "kernel_size_up": kernel_size_up,
                "num_fmaps_out": num_fmaps_out,
                "num_heads": num_heads,
                "crop_to_factor": crop_to_factor,
            },
            pad_output,
        )
        self.init_kwargs = {**self.unet.init_kwargs, "pad_output": pad_output}
        self.heads = nn.ModuleDict(
            {
                "partner_vector": self._head(3),
                "syn_indicator": self._head(1),
            }
        )

    def forward_heads(self, x: Tensor) -> dict[str, Tensor]:
        decoders = self.unet(x)
        return {
            "partner_vector": self.heads["partner_vector"](decoders[0]),
            "syn_indicator": self.heads["syn_indicator"](decoders[-1]),
        }

    def forward(self, x: Tensor) -> Tensor:
        heads = self.forward_heads(x)
        y = torch.cat([torch.sigmoid(heads["syn_indicator"]), heads["partner_vector"]], 1)
        return self._finish(y, x)


class MicronNet(_UNetTask):
    """Micron: one linear "lsds" head of 10 channels; channel 9 is the microtubule soft mask.

    ``forward`` clips channel 9 to [0, 1] as the original inference graph did; channels 0-8
    (the shape "derivatives") stay linear.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_fmaps: int = 12,
        fmap_inc_factors: int | list[int] = 5,
        downsample_factors: list[list[int]] | None = None,
        kernel_size_down: list[list[Kernel]] | None = None,
        kernel_size_up: list[list[Kernel]] | None = None,
        num_fmaps_out: int | None = None,
        crop_to_factor: bool = True,
        num_outputs: int = 10,
        pad_output: bool = False,
    ) -> None:
        if downsample_factors is None:
            downsample_factors = [[1, 3, 3], [1, 3, 3], [1, 3, 3]]
        super().__init__(
            {
                "in_channels": in_channels,
                "num_fmaps": num_fmaps,
                "fmap_inc_factors": fmap_inc_factors,
                "downsample_factors": downsample_factors,
                "kernel_size_down": kernel_size_down,
                "kernel_size_up": kernel_size_up,
                "num_fmaps_out": num_fmaps_out,
                "crop_to_factor": crop_to_factor,
            },
            pad_output,
        )
        self.init_kwargs = {
            **{k: v for k, v in self.unet.init_kwargs.items() if k != "num_heads"},
            "num_outputs": num_outputs,
            "pad_output": pad_output,
        }
        self.heads = nn.ModuleDict({"lsds": self._head(num_outputs)})

    def forward_heads(self, x: Tensor) -> dict[str, Tensor]:
        return {"lsds": self.heads["lsds"](self.unet(x)[0])}

    def forward(self, x: Tensor) -> Tensor:
        lsds = self.forward_heads(x)["lsds"]
        n = lsds.shape[1]
        y = torch.cat([lsds.narrow(1, 0, n - 1), lsds.narrow(1, n - 1, 1).clamp(0.0, 1.0)], 1)
        return self._finish(y, x)
