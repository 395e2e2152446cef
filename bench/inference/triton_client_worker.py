"""tritonclient side of bench/inference/server-overhead.ts: binary-tensor infer requests on demand.

One JSON command per stdin line, one JSON answer per stdout line (interleaved with the Node rows):
  {"cmd": "setup", "url": "127.0.0.1:PORT", "model": ID, "input": NPY (uint8 [1,1,z,y,x])} → {"ok": true}
  {"cmd": "run"}                                   → {"ms": wall ms of one request incl. decoding}
  {"cmd": "check", "reference": NPY}               → {"max_abs": |y − ref|∞}
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import tritonclient.http as h

state: dict = {}


def infer() -> np.ndarray:
    c, model, x = state["client"], state["model"], state["x"]
    md = state["meta"]
    i = h.InferInput(md["inputs"][0]["name"], list(x.shape), "UINT8")
    i.set_data_from_numpy(x, binary_data=True)
    name_out = md["outputs"][0]["name"]
    r = c.infer(
        model, [i], outputs=[h.InferRequestedOutput(name_out, binary_data=True)]
    )
    return r.as_numpy(name_out)


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "setup":
            # Generous timeouts: a loaded 2-core machine can take minutes per big block.
            state["client"] = h.InferenceServerClient(
                msg["url"], connection_timeout=600.0, network_timeout=600.0
            )
            state["model"] = msg["model"]
            state["x"] = np.load(msg["input"])
            state["meta"] = state["client"].get_model_metadata(msg["model"])
            out = {"ok": True}
        elif msg["cmd"] == "run":
            t0 = time.perf_counter()
            infer()
            out = {"ms": (time.perf_counter() - t0) * 1000}
        elif msg["cmd"] == "check":
            y = infer()
            out = {
                "max_abs": float(np.abs(y - np.load(msg["reference"])).max()),
                "shape": list(y.shape),
            }
        else:
            out = {"error": f"unknown cmd {msg['cmd']}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
