"""PyTorch network → model.torchscript.pt via torch.jit.script (ilastik's preferred format).

Scripting (not tracing) keeps the crop arithmetic symbolic, so every valid size works.
torch.jit is deprecated in torch ≥ 2.9 but ilastik/tiktorch and deepImageJ still load only this.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from emzoo.errors import ExportCheckFailed


def export_torchscript(net: torch.nn.Module, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            scripted = torch.jit.script(net.eval())
        except Exception as err:
            raise ExportCheckFailed(
                f"torch.jit.script failed for {type(net).__name__}: {str(err).strip().splitlines()[0]}",
                hint="the network's forward must be TorchScript-compatible (typed, no **kwargs)",
            ) from err
        scripted.save(str(path))


class TorchScriptRunner:
    def __init__(self, path: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.module = torch.jit.load(str(path), map_location="cpu").eval()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.module(torch.from_numpy(x)).numpy()
