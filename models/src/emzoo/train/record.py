"""The training record in the bundle's shape (spec/bundle.schema.json, ``$defs/training``).

The trainer keeps a richer record (``training.json``, loss history); this is the part a bundle
carries: data, iterations, seed, batch, optimiser, duration, devices and the final losses.
"""

from __future__ import annotations

from typing import Any

FINAL_WINDOW = 10  # final_losses = mean over the last logged rows (up to this many)


def bundle_training(record: dict[str, Any]) -> dict[str, Any]:
    cfg = record.get("config", {})
    world = int(record.get("world_size", 1))
    history = record.get("history", [])[-FINAL_WINDOW:]
    names = [k for k in (history[0] if history else {}) if k != "iteration"]
    final = {k: sum(float(h[k]) for h in history) / len(history) for k in names}
    synthetic = bool(record.get("synthetic", False))
    data = record.get("data", "unknown")
    sources = [str(d) for d in data] if isinstance(data, list) else [str(data)]
    desc = record.get("data_description") or f"volume {', '.join(sources)}"
    opt = record.get("optimizer", {})
    out: dict[str, Any] = {
        "data": {"description": desc, "sources": sources, "synthetic": synthetic},
        "iterations": int(record.get("iterations", 0)),
        "seed": cfg.get("seed"),
        "batch_size": int(cfg.get("batch_size") or 1) * world,
        "optimizer": f"Adam(betas={tuple(opt.get('betas', ()))}, eps={opt.get('eps')})",
        "duration_s": float(record.get("seconds_total", 0.0)),
        "devices": f"{world} x {record.get('device', 'cpu')}",
        "final_losses": final,
        "held_out_metrics": {},
        "notes": f"emzoo train, task pipeline {record.get('task_kind', '?')}; final_losses = mean "
        f"of the last {len(history)} logged values (every {cfg.get('log_every')} iterations, "
        f"averaged over {world} rank(s)); batch_size = per process x processes",
    }
    init = record.get("initialised_from")
    if init:
        out["notes"] += (
            f"; weights initialised from {init.get('path')} (sha256 {init.get('sha256')}), "
            "not at random; the optimiser started fresh"
        )
    fg = record.get("foreground_weight")
    if isinstance(fg, (int, float)):
        out["notes"] += (
            f"; Micron loss with a fixed foreground weight {fg:g} (the originals': the batch's "
            "foreground count)"
        )
    if opt.get("lr"):
        out["learning_rate"] = float(opt["lr"])
    shape = record.get("input_shape")
    if shape:
        out["input_shape"] = [int(s) for s in shape]
    return out
