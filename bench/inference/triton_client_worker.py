"""tritonclient side of bench/inference/server-overhead.ts: infer requests on demand.

One JSON command per stdin line, one JSON answer per stdout line (interleaved with the Node rows):
  {"cmd": "setup", "url": "127.0.0.1:PORT", "model": ID, "input": NPY (uint8 [1,1,z,y,x]),
   "shm": false|true}                              → {"ok": true}
  {"cmd": "run", "shm": false|true, "uint8": false|true, "fp16": false|true}
                                                   → {"ms": wall ms of one request incl. decoding}
  {"cmd": "check", "reference": NPY, "shm": ..., "uint8": ..., "fp16": ...}
                                                   → {"max_abs": |y - ref|∞}

shm false: binary tensor data both ways in the HTTP body. shm true: the system shared-memory
extension as a Triton user runs it: two regions made once with tritonclient.utils.shared_memory
and registered; per request the input is copied into its region, the request names both regions,
and the output is read as a numpy view of the output region (no copy, as as_numpy's view of the body).
uint8 / fp16 true (body only): request parameter output_datatype UINT8 (value*255) or FP16.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import tritonclient.http as h
import tritonclient.utils.shared_memory as shm

state: dict = {}


def infer(use_shm: bool = False, out_datatype: str = "FP32") -> np.ndarray:
    c, model, x = state["client"], state["model"], state["x"]
    md = state["meta"]
    i = h.InferInput(md["inputs"][0]["name"], list(x.shape), "UINT8")
    name_out = md["outputs"][0]["name"]
    o = h.InferRequestedOutput(name_out, binary_data=True)
    if not use_shm:
        i.set_data_from_numpy(x, binary_data=True)
        params = None if out_datatype == "FP32" else {"output_datatype": out_datatype}
        return c.infer(model, [i], outputs=[o], parameters=params).as_numpy(name_out)
    shm.set_shared_memory_region(state["shm_in"], [x])
    i.set_shared_memory("bench-in", x.nbytes)
    o.set_shared_memory("bench-out", state["out_bytes"])
    r = c.infer(model, [i], outputs=[o])
    out = r.get_output(name_out)
    return shm.get_contents_as_numpy(state["shm_out"], np.float32, out["shape"])


def setup_shm() -> None:
    """Regions sized from one body round trip's answer; keys unique to this process."""
    c, x = state["client"], state["x"]
    y = infer()
    state["out_bytes"] = y.nbytes
    tag = f"emzoo-bench-{os.getpid()}"
    state["shm_in"] = shm.create_shared_memory_region(
        "bench-in", f"/{tag}-in", x.nbytes
    )
    state["shm_out"] = shm.create_shared_memory_region(
        "bench-out", f"/{tag}-out", y.nbytes
    )
    c.register_system_shared_memory("bench-in", f"/{tag}-in", x.nbytes)
    c.register_system_shared_memory("bench-out", f"/{tag}-out", y.nbytes)


def main() -> None:
    try:
        for line in sys.stdin:
            msg = json.loads(line)
            use_shm = bool(msg.get("shm", False))
            out_dt = (
                "UINT8"
                if msg.get("uint8")
                else ("FP16" if msg.get("fp16") else "FP32")
            )
            if msg["cmd"] == "setup":
                # Generous timeouts: a loaded 2-core machine can take minutes per big block.
                state["client"] = h.InferenceServerClient(
                    msg["url"], connection_timeout=600.0, network_timeout=600.0
                )
                state["model"] = msg["model"]
                state["x"] = np.load(msg["input"])
                state["meta"] = state["client"].get_model_metadata(msg["model"])
                if use_shm:
                    setup_shm()
                out = {"ok": True}
            elif msg["cmd"] == "run":
                t0 = time.perf_counter()
                infer(use_shm, out_dt)
                out = {"ms": (time.perf_counter() - t0) * 1000}
            elif msg["cmd"] == "check":
                y = infer(use_shm, out_dt).astype(np.float64)
                out = {
                    "max_abs": float(np.abs(y - np.load(msg["reference"])).max()),
                    "shape": list(y.shape),
                }
            else:
                out = {"error": f"unknown cmd {msg['cmd']}"}
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()
    finally:
        for k in ("shm_in", "shm_out"):
            if k in state:
                shm.destroy_shared_memory_region(state[k])


if __name__ == "__main__":
    main()
