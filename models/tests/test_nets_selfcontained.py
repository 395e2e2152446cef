"""unet.py and vgg.py work as a bundle's architecture.py: copied alone, imported by path."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
import torch

import emzoo.nets.unet
import emzoo.nets.vgg
from emzoo.registry import get_preset

ALLOWED = {"__future__", "typing", "math", "collections", "torch"}


@pytest.mark.parametrize("module", [emzoo.nets.unet, emzoo.nets.vgg])
def test_imports_only_torch_and_stdlib(module):
    tree = ast.parse(Path(module.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots <= ALLOWED, roots - ALLOWED


@pytest.mark.parametrize(
    "name", ["lsd-small-mtlsd", "synful-small", "micron-small", "synister-small"]
)
def test_copied_file_rebuilds_the_net_from_init_kwargs(tmp_path, name):
    preset = get_preset(name)
    torch.manual_seed(0)
    net = preset.build().eval()
    source = sys.modules[type(net).__module__].__file__
    copy = tmp_path / "architecture.py"
    shutil.copy(source, copy)
    spec = importlib.util.spec_from_file_location(f"architecture_{name.replace('-', '_')}", copy)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass/TorchScript lookups need the module registered
    try:
        spec.loader.exec_module(module)
        twin = getattr(module, type(net).__name__)(**net.init_kwargs).eval()
        twin.load_state_dict(net.state_dict(), strict=True)
        x = torch.randn(1, 1, *preset.valid_min)
        with torch.no_grad():
            torch.testing.assert_close(twin(x), net(x))
            if name in ("lsd-small-mtlsd", "synister-small"):  # one per file: interfaces resolve
                torch.testing.assert_close(torch.jit.script(twin)(x), net(x))
    finally:
        del sys.modules[spec.name]
