"""Python side of bench/inference/backends.ts: onnxruntime and PyTorch eager on one block.

A long-lived child: one JSON command per stdin line, one JSON answer per stdout line, so the
Node driver can interleave engines run by run (the load on a shared 2-core machine drifts; runs
taken minutes apart are not comparable).

  {"cmd": "setup", "bundle": DIR, "input": NPY, "threads": [1, 2]}   → {"ok": true, versions}
  {"cmd": "run", "engine": "ort" | "torch", "threads": T}            → {"ms": wall ms of one run}
  {"cmd": "check", "engine": ..., "threads": T, "reference": NPY}    → {"max_abs": |y − ref|∞}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bundle_model import load_bundle_yaml, load_torch_model

# Fixed before any parallel work (PyTorch only allows setting it once); intra-op threads vary per run.
torch.set_num_interop_threads(1)

state: dict = {}


def setup(msg: dict) -> dict:
    bundle = Path(msg["bundle"])
    meta = load_bundle_yaml(bundle)
    state["x"] = np.load(msg["input"])
    state["input_name"] = meta["input"]["name"]
    state["sessions"] = {}
    for t in msg["threads"]:
        so = ort.SessionOptions()
        # The same settings as runtime/backend/ort-session.ts: t intra-op, 1 inter-op, defaults otherwise.
        so.intra_op_num_threads = t
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        state["sessions"][t] = ort.InferenceSession(
            str(bundle / meta["weights"]["onnx"]["file"]),
            so,
            providers=["CPUExecutionProvider"],
        )
    state["torch"] = load_torch_model(bundle)
    state["xt"] = torch.from_numpy(state["x"])
    return {
        "ok": True,
        "onnxruntime": ort.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def run_once(engine: str, threads: int) -> np.ndarray:
    if engine == "ort":
        sess = state["sessions"][threads]
        return sess.run(None, {state["input_name"]: state["x"]})[0]
    torch.set_num_threads(threads)
    with torch.inference_mode():
        return state["torch"](state["xt"]).numpy()


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "setup":
            out = setup(msg)
        elif msg["cmd"] == "run":
            t0 = time.perf_counter()
            run_once(msg["engine"], msg["threads"])
            out = {"ms": (time.perf_counter() - t0) * 1000}
        elif msg["cmd"] == "check":
            y = run_once(msg["engine"], msg["threads"])
            ref = np.load(msg["reference"])
            out = {"max_abs": float(np.abs(y - ref).max()), "shape": list(y.shape)}
        else:
            out = {"error": f"unknown cmd {msg['cmd']}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
