"""``emzoo describe`` and ``emzoo presets`` through the real CLI (subprocess and main())."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emzoo.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_describe_json_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "emzoo", "describe", "--preset", "lsd-fib25-vanilla", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["preset"] == "lsd-fib25-vanilla"
    assert info["input_shape"] == [196, 196, 196]
    assert info["output_shape"] == [92, 92, 92]
    assert info["parameters"] / 1e6 == pytest.approx(263.72, abs=0.01)
    assert info["valid_input"] == {"min": [112, 112, 112], "step": [12, 12, 12]}


def test_describe_invalid_shape_subprocess_exits_non_zero_with_hint():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emzoo",
            "describe",
            "--preset",
            "micron-cremi",
            "--input-shape",
            "32,320,322",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "y=320" in proc.stderr
    assert "hint:" in proc.stderr and "y: 295 or 322" in proc.stderr
    assert proc.stdout == ""


def test_describe_input_shape_json(capsys):
    code = main(
        ["describe", "--preset", "synful-cremi-mt", "--input-shape", "90,1132,1132", "--json"]
    )
    assert code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["output_shape"] == [54, 920, 920]
    assert info["parameters"] / 1e6 == pytest.approx(12.86, abs=0.01)


def test_describe_text_and_classifier(capsys):
    assert main(["describe", "--preset", "synister-fafb"]) == 0
    out = capsys.readouterr().out
    assert "(6,)" in out and "exactly (16, 160, 160)" in out
    assert main(["describe", "--preset", "synister-fafb", "--input-shape", "16,160,161"]) == 3
    assert "exactly one input shape" in capsys.readouterr().err


def test_describe_malformed_shape_and_unknown_preset(capsys):
    assert main(["describe", "--preset", "lsd-small-mtlsd", "--input-shape", "60,60"]) == 3
    assert "Z,Y,X" in capsys.readouterr().err
    assert main(["describe", "--preset", "lsd-tiny"]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'lsd-tiny'" in err and "lsd-small-mtlsd" in err


def test_presets_json(capsys):
    assert main(["presets", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["lsd-zebrafinch-mtlsd"]["parameters"] / 1e6 == pytest.approx(95.86, abs=0.01)
    assert rows["synful-cremi-st"]["train_output_shape"] == [6, 218, 218]
    assert rows["micron-cremi"]["paper"] is True
    assert rows["micron-small"]["paper"] is False
    assert main(["presets"]) == 0
    table = capsys.readouterr().out
    assert "lsd-fib25-acrlsd" in table and "331.88 M" in table
