"""Scalar logs: CSV always (``<out>/train_log.csv``), TensorBoard events when torch's writer
imports (the ``tensorboard`` package is optional)."""

from __future__ import annotations

import csv
from pathlib import Path


def _tensorboard_writer(folder: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard not installed: CSV only
        return None
    return SummaryWriter(log_dir=str(folder))


class ScalarLog:
    def __init__(self, out: Path, columns: list[str], enabled: bool = True, resume: bool = False):
        self.enabled = enabled
        self.columns = ["iteration", *columns]
        self.path = Path(out) / "train_log.csv"
        self.tb = None
        if not enabled:
            return
        Path(out).mkdir(parents=True, exist_ok=True)
        fresh = not (resume and self.path.exists())
        self._file = self.path.open("w" if fresh else "a", newline="")
        self._csv = csv.writer(self._file)
        if fresh:
            self._csv.writerow(self.columns)
        self.tb = _tensorboard_writer(Path(out) / "tensorboard")

    @property
    def tensorboard(self) -> bool:
        return self.tb is not None

    def truncate_after(self, iteration: int) -> None:
        """On resume, drop rows logged after the checkpoint (they will be recomputed)."""
        if not self.enabled:
            return
        self._file.close()
        with self.path.open(newline="") as f:
            rows = list(csv.reader(f))
        keep = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= iteration]
        with self.path.open("w", newline="") as f:
            csv.writer(f).writerows(keep)
        self._file = self.path.open("a", newline="")
        self._csv = csv.writer(self._file)

    def write(self, iteration: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._csv.writerow([iteration, *(f"{values[c]:.8g}" for c in self.columns[1:])])
        self._file.flush()
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, v, iteration)

    def close(self) -> None:
        if self.enabled:
            self._file.close()
            if self.tb is not None:
                self.tb.close()
