/**
 * Shared pieces of the inference benchmarks: bundle export into /tmp (never the repo), medians,
 * the load note, a plain-text table, Python child processes (OpenBLAS overrides unset, so numpy
 * and PyTorch run with their own defaults), and `--flag value` parsing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ModelGeometry } from '../../runtime/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PYTHON = join(ROOT, '.venv/bin/python');
export const EMZOO = join(ROOT, '.venv/bin/emzoo');
export const CLI = join(ROOT, 'bin/bioimage-export.js');
export const HERE = import.meta.dirname;
/** Scratch root: bundles, volumes and outputs live here, never in the repository. */
export const SCRATCH = process.env.EMZOO_BENCH_DIR ?? '/tmp/emzoo-bench';

/** Environment for Python children: this machine's OpenBLAS overrides removed (benchmarks only). */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** `emzoo export --preset NAME` into SCRATCH/bundles/NAME (reused if already there). */
export function ensureBundle(preset: string): string {
  const dir = join(SCRATCH, 'bundles', preset);
  if (existsSync(join(dir, 'bundle.yaml')) && existsSync(join(dir, 'model.onnx'))) return dir;
  mkdirSync(join(SCRATCH, 'bundles'), { recursive: true });
  process.stderr.write(`exporting ${preset} → ${dir} (once)\n`);
  // The bench measures running the model, not the export: test tensors at the smallest valid size
  // and no bioimage.io size check (minutes for a faithful-size net on two cores).
  const args = ['export', '--preset', preset, '--out', dir, '--force', '--test-k', '0', '--skip-size-check'];
  execFileSync(EMZOO, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: pythonEnv({ OMP_NUM_THREADS: '2' }),
  });
  return dir;
}

/** Runs a Python script to completion; resolves with its stdout (stderr passes through). */
export function runPython(args: string[], extra: Record<string, string> = {}): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(PYTHON, args, { env: pythonEnv(extra), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`${args[0]} exited with ${code}`))));
  });
}

/** A long-lived Python child answering one JSON line per JSON command (lets runs interleave). */
export function pythonWorker(script: string) {
  const child = spawn(PYTHON, [script], { env: pythonEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
      child.stdin.write(`${JSON.stringify(msg)}\n`);
      const r = await lines.next();
      if (r.done) throw new Error(`${script} exited`);
      const out = JSON.parse(r.value) as Record<string, unknown>;
      if (out.error) throw new Error(String(out.error));
      return out;
    },
    close: () => child.stdin.end(),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

/** "load 1/5/15 min: a b c on N cores" — printed before and after each benchmark. */
export function loadNote(): string {
  const [a, b, c] = loadavg().map((v) => v.toFixed(2));
  return `load average (1/5/15 min): ${a} ${b} ${c} on ${cpus().length} cores, ${new Date().toISOString()}`;
}

/** Left-aligned first column, right-aligned others. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** `--name value` flags over defaults; numbers stay numbers. Unknown flags are an error. */
export function flags<T extends Record<string, string | number>>(
  defaults: T,
  argv = process.argv.slice(2),
): T {
  const out: Record<string, string | number> = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const val = argv[i + 1];
    if (key === undefined || !(key in defaults) || val === undefined) {
      throw new Error(
        `unknown or incomplete flag '${argv[i]}'; known: ${Object.keys(defaults)
          .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
          .join(' ')}`,
      );
    }
    out[key] = typeof defaults[key] === 'number' ? Number(val) : val;
    if (typeof defaults[key] === 'number' && !Number.isFinite(out[key] as number)) {
      throw new Error(`--${argv[i]} needs a number, got '${val}'`);
    }
  }
  return out as T;
}

/** Sizes and preprocessing from a bundle.yaml (read with the project's bundle reader). */
export interface BundleGeometry {
  readonly minInput: number[];
  readonly step: number[];
  readonly halo: number[];
  readonly outputChannels: number;
  readonly gain: number;
  readonly offset: number;
  readonly inputName: string;
  readonly outputName: string;
  readonly voxelSizeNm: number[];
}

export async function bundleGeometry(dir: string): Promise<BundleGeometry> {
  const { readBundle } = await import('../../exporters/index.js');
  const b = readBundle(dir);
  if (b.output.kind !== 'dense' || b.output.halo === undefined) {
    throw new Error(`${dir}: the inference benchmarks need a dense model with a halo`);
  }
  const pre = b.input.preprocessing;
  return {
    minInput: [...b.input.valid_size.min],
    step: [...b.input.valid_size.step],
    halo: [...b.output.halo],
    outputChannels: b.output.channel_names.length,
    gain: pre.gain,
    offset: pre.offset,
    inputName: b.input.name,
    outputName: b.output.name,
    voxelSizeNm: [...b.input.voxel_size_nm],
  };
}

/** The runtime's view of the bundle (one input channel), for tiling plans and block estimates. */
export function modelGeometry(g: BundleGeometry): ModelGeometry {
  return {
    minInput: g.minInput,
    step: g.step,
    halo: g.halo,
    inputChannels: 1,
    outputChannels: g.outputChannels,
  };
}

/** Checks `size` is minInput + k·step on every axis (a block the model accepts). */
export function checkBlock(g: BundleGeometry, size: readonly number[]): void {
  size.forEach((s, i) => {
    const rest = s - (g.minInput[i] as number);
    if (rest < 0 || rest % (g.step[i] as number) !== 0) {
      throw new Error(
        `block [${size}] is not valid: use minInput [${g.minInput}] + k·step [${g.step}] per axis`,
      );
    }
  });
}

/**
 * The tiling options `predict --threads T --memory-mb M --uint8` plans with (mirrors
 * cli/commands/predict.ts: M is the process peak, minus the process's own ~170 + 50·T MB, shared
 * by T blocks in flight), so a benchmark can name the block predict will pick.
 */
export function predictTiling(
  memoryMb: number,
  threads: number,
): { memoryBudgetBytes: number; outputBytes: number } {
  return { memoryBudgetBytes: ((memoryMb - 170 - 50 * threads) * 2 ** 20) / threads, outputBytes: 1 };
}
