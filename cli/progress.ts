/** Progress on stderr: one timestamped line per step (stdout stays clean for --json). */
export interface Progress {
  step(message: string): void;
}

export function stderrProgress(quiet: boolean, prefix = ''): Progress {
  const t0 = performance.now();
  return {
    step(message) {
      if (quiet) return;
      const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[${s}s] ${prefix}${message}\n`);
    },
  };
}
