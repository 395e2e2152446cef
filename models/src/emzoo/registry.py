"""Preset name → Preset. Lookups of unknown names fail with the list of known names."""

from __future__ import annotations

from emzoo.errors import UnknownName
from emzoo.preset import Preset

_PRESETS: dict[str, Preset] = {}
_loaded = False


def register(preset: Preset) -> Preset:
    if preset.name in _PRESETS:
        raise ValueError(f"preset {preset.name!r} registered twice")
    _PRESETS[preset.name] = preset
    return preset


def _load() -> None:
    # Importing the preset catalogue registers everything; done lazily to keep imports light.
    global _loaded
    if not _loaded:
        _loaded = True
        import emzoo.presets  # noqa: F401


def get_preset(name: str) -> Preset:
    _load()
    try:
        return _PRESETS[name]
    except KeyError:
        raise UnknownName("preset", name, list(_PRESETS)) from None


def list_presets() -> list[Preset]:
    _load()
    return [_PRESETS[k] for k in sorted(_PRESETS)]
