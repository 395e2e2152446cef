/** A block progress bar with ETA on stderr: redrawn in place on a TTY, one line per ~5 % otherwise. */
export interface BlockProgress {
  readonly done: number;
  readonly total: number;
  readonly skipped: number;
  readonly etaMs: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function renderBar(p: BlockProgress, width = 30): string {
  const frac = p.total > 0 ? p.done / p.total : 1;
  const fill = Math.round(frac * width);
  const skipped = p.skipped > 0 ? ` (${p.skipped} resumed)` : '';
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${p.done}/${p.total} blocks ${(frac * 100).toFixed(0).padStart(3)}%${skipped} ETA ${formatDuration(p.etaMs)}`;
}

export function progressBar(write: (s: string) => void, tty: boolean, quiet: boolean) {
  let lastPct = -1;
  return {
    update(p: BlockProgress) {
      if (quiet) return;
      if (tty) {
        write(`\r${renderBar(p)}`);
        return;
      }
      const pct = Math.floor((p.done / Math.max(1, p.total)) * 20);
      if (pct !== lastPct || p.done === p.total) {
        lastPct = pct;
        write(`${renderBar(p)}\n`);
      }
    },
    end() {
      if (!quiet && tty) write('\n');
    },
  };
}
