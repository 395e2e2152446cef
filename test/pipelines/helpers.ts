/**
 * Shared by the pipelines tests: a seeded random source, synthetic volumes, and a runner for the
 * Python reference (the emzoo package in .venv) that exchanges arrays as .npy files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NdArray } from '../../runtime/index.js';
import { ndarray, readNpy, writeNpy } from '../../runtime/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PYTHON = join(ROOT, '.venv/bin/python');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `emzoo-pipelines-${prefix}-`));
}

/** mulberry32: a small deterministic generator, so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Voronoi cells of `cells` random points: a dense label volume 1..cells. */
export function voronoiLabels(
  shape: readonly [number, number, number],
  cells: number,
  seed: number,
): Int32Array {
  const rnd = random(seed);
  const pts = Array.from({ length: cells }, () => shape.map((s) => rnd() * s));
  const [nz, ny, nx] = shape;
  const out = new Int32Array(nz * ny * nx);
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        let best = 0;
        let bd = Number.POSITIVE_INFINITY;
        pts.forEach((p, k) => {
          const d = (p[0] - z) ** 2 + (p[1] - y) ** 2 + (p[2] - x) ** 2;
          if (d < bd) {
            bd = d;
            best = k + 1;
          }
        });
        out[i] = best;
      }
    }
  }
  return out;
}

/** Nearest-neighbour affinities (−z, −y, −x) of a label volume, with uniform noise of ± `noise`. */
export function affinitiesOf(
  labels: Int32Array,
  shape: readonly [number, number, number],
  noise: number,
  seed: number,
): Float32Array {
  const rnd = random(seed);
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const out = new Float32Array(3 * n);
  const steps = [ny * nx, nx, 1];
  for (let c = 0; c < 3; c++) {
    for (let z = 0, i = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++, i++) {
          const coord = [z, y, x][c] as number;
          const same = coord > 0 && labels[i] === labels[i - (steps[c] as number)] ? 1 : 0;
          out[c * n + i] = Math.min(1, Math.max(0, same + (rnd() * 2 - 1) * noise));
        }
      }
    }
  }
  return out;
}

export const NEAREST_OFFSETS = [
  [-1, 0, 0],
  [0, -1, 0],
  [0, 0, -1],
] as const;

/**
 * Runs `code` with the arrays in `inputs` loaded as numpy variables of the same names; the code
 * stores results in a dict `out` of arrays, returned as NdArrays.
 */
export async function runPython(
  inputs: Record<string, NdArray>,
  code: string,
): Promise<Record<string, NdArray>> {
  const dir = tempDir('py');
  for (const [name, arr] of Object.entries(inputs)) await writeNpy(join(dir, `${name}.npy`), arr);
  const script = `
import json, os, numpy as np
_dir = ${JSON.stringify(dir)}
${Object.keys(inputs)
  .map((k) => `${k} = np.load(os.path.join(_dir, '${k}.npy'))`)
  .join('\n')}
out = {}
${code}
for k, v in out.items():
    np.save(os.path.join(_dir, 'out_' + k + '.npy'), np.ascontiguousarray(v))
print(json.dumps(list(out)))
`;
  const r = spawnSync(PYTHON, ['-c', script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python reference failed:\n${r.stderr}`);
  const names = JSON.parse(r.stdout.trim().split('\n').pop() as string) as string[];
  const result: Record<string, NdArray> = {};
  for (const k of names) result[k] = await readNpy(join(dir, `out_${k}.npy`));
  rmSync(dir, { recursive: true, force: true });
  return result;
}

export const f32 = (shape: readonly number[], data: Float32Array) => ndarray('float32', shape, data);
export const i32 = (shape: readonly number[], data: Int32Array) => ndarray('int32', shape, data);
export const f64 = (shape: readonly number[], data: Float64Array) => ndarray('float64', shape, data);

/** Numbers from any NdArray (bigint ids become numbers; fine below 2^53). */
export function numbers(arr: NdArray): number[] {
  return Array.from(arr.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * Whether two labelings are the same partition up to relabelling (0 must map to 0): returns the
 * number of voxels that break a one-to-one correspondence (0 = identical partitions).
 */
export function partitionMismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  let bad = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if ((x === 0) !== (y === 0)) {
      bad++;
      continue;
    }
    const mx = ab.get(x);
    const my = ba.get(y);
    if (mx === undefined && my === undefined) {
      ab.set(x, y);
      ba.set(y, x);
    } else if (mx !== y || my !== x) bad++;
  }
  return bad;
}
