"""TF1 checkpoint on disk → variable names, shapes and arrays (no graph, no session).

TensorFlow is an optional extra: it is imported only here, lazily, and its absence is a
MissingDependency with the install command.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emzoo.errors import InvalidInput, MissingDependency

_SUFFIXES = (".index", ".meta")
_DATA_SUFFIX = re.compile(r"\.data-\d+-of-\d+$")


def import_tensorflow() -> Any:
    """Import TensorFlow quietly, or fail with how to install it."""
    # Quiet TF's C++ start-up chatter; oneDNN only matters for computing, and we only read.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf
    except ImportError as err:
        raise MissingDependency(
            f"reading TensorFlow checkpoints needs TensorFlow, which is not importable ({err})",
            hint="pip install 'emzoo[tf]'   (installs tensorflow-cpu)",
        ) from None
    return tf


def resolve_prefix(path: str | os.PathLike[str]) -> str:
    """Accept a checkpoint prefix, one of its files, or a folder with a 'checkpoint' index file."""
    p = Path(path)
    text = str(p)
    if p.is_dir():
        latest = _latest_in(p)
        if latest is None:
            found = sorted(f.name for f in p.glob("*.index"))
            raise InvalidInput(
                f"folder {text} has no 'checkpoint' file naming an existing checkpoint"
                + (f"; checkpoints in it: {', '.join(f[:-6] for f in found)}" if found else ""),
                hint="pass the checkpoint prefix, e.g. --checkpoint DIR/train_net_checkpoint_400000",
            )
        return latest
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    text = _DATA_SUFFIX.sub("", text)
    if not Path(text + ".index").is_file():
        sibling = sorted(f.name[:-6] for f in Path(text).parent.glob("*.index"))
        raise InvalidInput(
            f"no TensorFlow checkpoint at {text} (expected {text}.index and "
            f"{text}.data-00000-of-00001)"
            + (f"; checkpoints next to it: {', '.join(sibling)}" if sibling else ""),
            hint="pass the prefix without extension, e.g. lsd/mtlsd/train_net_checkpoint_400000",
        )
    return text


def _latest_in(folder: Path) -> str | None:
    """The 'checkpoint' index file's model_checkpoint_path, looked up inside ``folder``.

    The originals' index files often hold absolute paths from the training cluster, so only
    the file name is used (tf.train.latest_checkpoint would give up on those).
    """
    index = folder / "checkpoint"
    if not index.is_file():
        return None
    m = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', index.read_text(), re.MULTILINE)
    if not m:
        return None
    prefix = folder / Path(m.group(1).replace("\\", "/")).name
    return str(prefix) if Path(f"{prefix}.index").is_file() else None


def iteration_of(prefix: str) -> int | None:
    """'…_checkpoint_400000' (gunpowder) or '…-400000' (tf.train.Saver) → 400000."""
    m = re.search(r"(?:_checkpoint_|-)(\d+)$", prefix)
    return int(m.group(1)) if m else None


@dataclass
class TfCheckpoint:
    """The variables of one checkpoint: name → shape, arrays read on demand."""

    prefix: str
    shapes: dict[str, tuple[int, ...]]
    _reader: Any

    def get(self, name: str) -> np.ndarray:
        return np.asarray(self._reader.get_tensor(name))


def read_checkpoint(path: str | os.PathLike[str]) -> TfCheckpoint:
    prefix = resolve_prefix(path)
    tf = import_tensorflow()
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as err:  # TF raises assorted errors for truncated/corrupt files
        raise InvalidInput(
            f"cannot read TensorFlow checkpoint {prefix}: {err}",
            hint="check that the .index and .data-* files are complete (re-download them)",
        ) from None
    shapes = {k: tuple(int(d) for d in v) for k, v in reader.get_variable_to_shape_map().items()}
    return TfCheckpoint(prefix=prefix, shapes=shapes, _reader=reader)
