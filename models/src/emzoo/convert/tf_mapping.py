"""PyTorch state-dict keys + TF checkpoint variables → a checked one-to-one mapping.

The mapping is built from the PyTorch model's own keys and shapes (the port's layout:
``unet.left.<l>.convs.<i>``, ``unet.up.<h>.<l>``, ``unet.right.<h>.<l>.convs.<i>``,
``heads.<name>``), so every error names the exact parameter and variable involved. Pure
Python: no TensorFlow needed to plan, only to read the arrays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from emzoo.convert import tf_names as names_
from emzoo.errors import CheckpointMismatch, InvalidInput

Shape = tuple[int, ...]

_LEFT = re.compile(r"^unet\.left\.(\d+)\.convs\.(\d+)\.(weight|bias)$")
_UP = re.compile(r"^unet\.up\.(\d+)\.(\d+)\.(weight|bias)$")
_RIGHT = re.compile(r"^unet\.right\.(\d+)\.(\d+)\.convs\.(\d+)\.(weight|bias)$")
_HEAD = re.compile(r"^heads\.([^.]+)\.(?:(.+)\.)?(weight|bias)$")
_LEAF = {"weight": "kernel", "bias": "bias"}
_LIST_MAX = 25


def tf_to_torch_layout(shape: Shape) -> tuple[int, ...]:
    """Axis permutation taking a TF kernel to PyTorch's layout (biases: identity).

    conv3d kernel (kz, ky, kx, in, out) → Conv3d (out, in, kz, ky, kx);
    conv3d_transpose kernel (kz, ky, kx, out, in) → ConvTranspose3d (in, out, kz, ky, kx):
    the same permutation. Both frameworks compute the transposed conv as the adjoint of
    cross-correlation, so no spatial flip (checked numerically in the tests).
    """
    n = len(shape)
    if n < 3:
        return tuple(range(n))
    return (n - 1, n - 2, *range(n - 2))


def as_torch_shape(tf_shape: Shape) -> Shape:
    return tuple(tf_shape[i] for i in tf_to_torch_layout(tf_shape))


def convert_array(value: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(value, tf_to_torch_layout(value.shape)))


@dataclass
class Entry:
    torch_key: str
    tf_name: str
    torch_shape: Shape
    tf_shape: Shape | None  # None: variable missing from the checkpoint


@dataclass
class MappingPlan:
    scope: str  # '' or 'mtlsd/'
    style: str  # 'mala' or 'funlib' (decoder scopes)
    heads: dict[str, str]  # PyTorch head → TF conv_pass name
    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)  # optimizer slots, step counters
    outside_scope: list[str] = field(default_factory=list)  # other networks' variables

    def variable_map(self) -> dict[str, str]:
        return {e.torch_key: e.tf_name for e in self.entries}


def resolve_scope(names: list[str], scope: str | None) -> str:
    found = names_.find_scopes(names)
    shown = ", ".join(repr(s.rstrip("/")) for s in found)
    if scope is not None:
        scope = names_.normalize_scope(scope)
        if scope not in found:
            raise InvalidInput(
                f"scope {scope.rstrip('/')!r} holds no U-Net in this checkpoint"
                + (f"; U-Net scopes found: {shown}" if found else "; no U-Net found at all"),
                hint="drop --scope to detect it, or pass one of the listed scopes",
            )
        return scope
    if not found:
        sample = ", ".join(sorted(names)[:12])
        raise InvalidInput(
            "no mala / funlib.learn.tensorflow U-Net in this checkpoint (no variable "
            f"'…unet_layer_0_left_0/kernel'); it holds: {sample}"
            + (" …" if len(names) > 12 else ""),
            hint="convert-tf reads checkpoints of the LSD, Synful and Micron TF1 networks",
        )
    if len(found) > 1:
        raise InvalidInput(
            f"the checkpoint holds several U-Nets, scopes {shown}",
            hint="pick one with --scope",
        )
    return found[0]


def describe_network(shapes: Mapping[str, Shape], scope: str) -> str:
    """One line saying what the checkpoint's network looks like (for mismatch messages)."""
    fmaps = []
    level = 0
    while (k := f"{scope}{names_.left_conv(level, 0)}/kernel") in shapes:
        fmaps.append(shapes[k][-1])
        level += 1
    in_ch = shapes.get(f"{scope}{names_.left_conv(0, 0)}/kernel", (0,) * 5)[-2]
    style = names_.decoder_style(set(shapes), scope)
    decoders = 1
    if style == "funlib":
        while any(n.startswith(f"{scope}decoder_{decoders}_layer_0/") for n in shapes):
            decoders += 1
    heads = sorted(
        f"{n[len(scope) : -len('/kernel')]}→{s[-1]}"
        for n, s in shapes.items()
        if n.startswith(scope)
        and n.endswith("/kernel")
        and "unet_" not in n
        and not names_.is_training_state(n)
    )
    return (
        f"checkpoint network: {in_ch} input channels, {len(fmaps)} levels with fmaps "
        f"{'/'.join(map(str, fmaps))}, {decoders} decoder(s) ({style} naming), "
        f"heads {', '.join(heads) or 'none'}"
    )


def _head_modules(torch_keys: list[str]) -> dict[str, list[str]]:
    """Head name → its conv modules in state-dict order ('' for a bare conv)."""
    heads: dict[str, list[str]] = {}
    for key in torch_keys:
        m = _HEAD.match(key)
        if m:
            mods = heads.setdefault(m.group(1), [])
            if (m.group(2) or "") not in mods:
                mods.append(m.group(2) or "")
    return heads


def plan_mapping(
    torch_shapes: Mapping[str, Shape],
    tf_shapes: Mapping[str, Shape],
    *,
    scope: str | None = None,
    head_names: Mapping[str, str] | None = None,
) -> MappingPlan:
    """Map every PyTorch parameter to one TF variable; raise on anything that does not fit."""
    all_names = list(tf_shapes)
    skipped = [n for n in all_names if names_.is_training_state(n)]
    weights = [n for n in all_names if not names_.is_training_state(n)]
    scope = resolve_scope(weights, scope)
    in_scope = {n for n in weights if n.startswith(scope)}
    outside = sorted(set(weights) - in_scope)
    style = names_.decoder_style(in_scope, scope)

    torch_keys = list(torch_shapes)
    heads: dict[str, str] = {}
    head_notes: list[str] = []
    for head in _head_modules(torch_keys):
        cands = names_.head_candidates(head, dict(head_names or {}))
        taken = set(heads.values())
        pick = next(
            (c for c in cands if c not in taken and f"{scope}{c}_0/kernel" in in_scope), None
        )
        if pick is None:
            pick = cands[0]
            tried = ", ".join(f"'{scope}{c}_0'" for c in cands)
            head_notes.append(f"head {head!r}: looked for {tried}")
        heads[head] = pick
    head_mods = _head_modules(torch_keys)

    entries: list[Entry] = []
    unplaced: list[str] = []
    for key in torch_keys:
        tf_name = _tf_name(key, style, heads, head_mods)
        if tf_name is None:
            unplaced.append(key)
            continue
        full = scope + tf_name
        entries.append(Entry(key, full, tuple(torch_shapes[key]), tf_shapes.get(full)))
    if unplaced:
        raise InvalidInput(
            "the PyTorch model has parameters outside the U-Net/heads layout convert-tf knows "
            f"(unet.left/up/right, heads.<name>): {', '.join(unplaced[:_LIST_MAX])}",
            hint="convert-tf supports the mala-topology task nets (LSD, Synful, Micron)",
        )

    mapped = {e.tf_name for e in entries}
    missing = [
        f"{e.tf_name} (for {e.torch_key} {list(e.torch_shape)})"
        for e in entries
        if e.tf_shape is None
    ]
    mismatched = [
        f"{e.torch_key}: PyTorch {list(e.torch_shape)} ≠ {e.tf_name} TF {list(e.tf_shape)}"
        f" (= {list(as_torch_shape(e.tf_shape))} in PyTorch layout)"
        for e in entries
        if e.tf_shape is not None and as_torch_shape(e.tf_shape) != e.torch_shape
    ]
    unexpected = [f"{n} {list(tf_shapes[n])}" for n in sorted(in_scope - mapped)]
    if missing or mismatched or unexpected:
        parts = []
        for title, items in (
            ("missing from the checkpoint", missing),
            ("shape mismatch", mismatched),
            ("unexpected in the checkpoint", unexpected),
        ):
            if items:
                listed = "\n    ".join(items[:_LIST_MAX])
                more = (
                    f"\n    … and {len(items) - _LIST_MAX} more" if len(items) > _LIST_MAX else ""
                )
                parts.append(f"  {title} ({len(items)}):\n    {listed}{more}")
        parts.extend(f"  {n}" for n in head_notes)
        parts.append("  " + describe_network(tf_shapes, scope))
        raise CheckpointMismatch(
            f"checkpoint does not fit the model (scope {scope.rstrip('/')!r}):\n"
            + "\n".join(parts),
            missing=missing,
            unexpected=unexpected,
            mismatched=mismatched,
            hint="pick the preset the network was trained with (levels, fmaps, input channels, "
            "heads); --head TORCH=TF maps a head the originals named differently",
        )
    return MappingPlan(scope, style, heads, entries, skipped, outside)


def _tf_name(key: str, style: str, heads: dict[str, str], head_mods: dict[str, list[str]]):
    if m := _LEFT.match(key):
        level, index, kind = int(m.group(1)), int(m.group(2)), m.group(3)
        return f"{names_.left_conv(level, index)}/{_LEAF[kind]}"
    if m := _UP.match(key):
        dec, level, kind = int(m.group(1)), int(m.group(2)), m.group(3)
        return f"{names_.up_conv(style, dec, level)}/{_LEAF[kind]}"
    if m := _RIGHT.match(key):
        dec, level, index = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return f"{names_.right_conv(style, dec, level, index)}/{_LEAF[m.group(4)]}"
    if m := _HEAD.match(key):
        head, mod, kind = m.group(1), m.group(2) or "", m.group(3)
        return f"{heads[head]}_{head_mods[head].index(mod)}/{_LEAF[kind]}"
    return None
