"""state_dict.pt + architecture.py (bioimage.io pytorch_state_dict weights), and the check that
they rebuild the network with nothing but torch: a fresh isolated interpreter (``python -I``,
cwd = bundle, emzoo imports blocked) imports architecture.py, builds ``callable(**kwargs)``,
loads state_dict.pt and predicts.
"""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emzoo.errors import ExportCheckFailed


def architecture_source(net: torch.nn.Module) -> Path:
    """The self-contained nets file the network's class is defined in."""
    src = inspect.getsourcefile(type(net))
    if src is None:
        raise ExportCheckFailed(f"no source file for {type(net).__qualname__}")
    return Path(src)


def write_state_dict(net: torch.nn.Module, folder: Path) -> str:
    """Write state_dict.pt and architecture.py into ``folder``; returns the callable's name."""
    sd = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    torch.save(sd, folder / "state_dict.pt")
    shutil.copyfile(architecture_source(net), folder / "architecture.py")
    return type(net).__name__


# Runs in the isolated interpreter: argv = callable, kwargs json file, input npy, output npy.
_ISOLATED = r"""
import importlib.abc, json, os, sys
class _NoEmzoo(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "emzoo" or name.startswith("emzoo."):
            raise ModuleNotFoundError("architecture.py must not import emzoo (got " + name + ")")
        return None
sys.meta_path.insert(0, _NoEmzoo())
sys.path.insert(0, os.getcwd())
import numpy as np, torch
import architecture
callable_name, kwargs_file, x_file, y_file = sys.argv[1:5]
net = getattr(architecture, callable_name)(**json.load(open(kwargs_file)))
net.load_state_dict(torch.load("state_dict.pt", map_location="cpu", weights_only=True))
net.eval()
with torch.no_grad():
    y = net(torch.from_numpy(np.load(x_file)))
np.save(y_file, y.numpy())
"""


def predict_isolated(
    folder: Path, callable_name: str, kwargs: dict[str, Any], x: np.ndarray
) -> np.ndarray:
    """Run ``x`` through architecture.py + state_dict.pt in ``folder`` in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="emzoo-isolated-") as tmp:
        t = Path(tmp)
        (t / "kwargs.json").write_text(json.dumps(kwargs))
        np.save(t / "x.npy", x)
        proc = subprocess.run(
            [
                sys.executable,
                "-I",
                "-B",
                "-c",
                _ISOLATED,
                callable_name,
                str(t / "kwargs.json"),
                str(t / "x.npy"),
                str(t / "y.npy"),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2"},
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise ExportCheckFailed(
                f"architecture.py + state_dict.pt do not rebuild the network in a clean interpreter:\n{tail}",
                hint="the nets file must import only torch and the standard library",
            )
        return np.load(t / "y.npy")
