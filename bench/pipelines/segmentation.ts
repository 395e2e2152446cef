/**
 * Affinities → segmentation speed: pipelines/segmentation (TypeScript) vs the Python reference
 * emzoo.evaluate.watershed.segment_affinities (scipy + skimage), on the same float32 volume in the
 * same run. Each side times only the computation (the volume is already in memory), median of
 * --rounds; the Python side runs in one .venv/bin/python process after a warm-up round.
 * The outputs are compared (same partition) so the timing is of equal work.
 *
 *   node --import tsx bench/pipelines/segmentation.ts [--size 96] [--rounds 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { affinities, segmentAffinities } from '../../pipelines/segmentation/index.js';
import { ndarray, readNpy, writeNpy } from '../../runtime/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const size = arg('size', 96);
const rounds = arg('rounds', 3);
if (!Number.isInteger(size) || size < 8 || size > 128) throw new Error('--size must be an integer in 8..128');

/** Voronoi cells (seeded), their −z/−y/−x affinities with ±0.3 noise: neuron-like blobs. */
function volume(n: number): Float32Array {
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const cells = Math.max(8, Math.round(n ** 3 / 4000));
  const pts = Array.from({ length: cells }, () => [rnd() * n, rnd() * n, rnd() * n] as const);
  const labels = new Int32Array(n ** 3);
  for (let z = 0, i = 0; z < n; z++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++, i++) {
        let best = 0;
        let bd = Number.POSITIVE_INFINITY;
        for (let k = 0; k < cells; k++) {
          const p = pts[k] as readonly [number, number, number];
          const d = (p[0] - z) ** 2 + (p[1] - y) ** 2 + (p[2] - x) ** 2;
          if (d < bd) {
            bd = d;
            best = k + 1;
          }
        }
        labels[i] = best;
      }
  const out = new Float32Array(3 * n ** 3);
  const steps = [n * n, n, 1];
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < n ** 3; i++) {
      const coord = [Math.floor(i / (n * n)), Math.floor(i / n) % n, i % n][c] as number;
      const same = coord > 0 && labels[i] === labels[i - (steps[c] as number)] ? 1 : 0;
      out[c * n ** 3 + i] = Math.min(1, Math.max(0, same + (rnd() * 2 - 1) * 0.3));
    }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'emzoo-bench-seg-'));
try {
  const data = volume(size);
  const shape = [3, size, size, size];
  await writeNpy(join(dir, 'affs.npy'), ndarray('float32', shape, data));
  const affs = affinities(shape, data, [
    [-1, 0, 0],
    [0, -1, 0],
    [0, 0, -1],
  ]);
  segmentAffinities(affs); // warm-up (JIT)
  const ts: number[] = [];
  let seg: Int32Array = new Int32Array(0);
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    seg = segmentAffinities(affs).data;
    ts.push(performance.now() - t0);
  }
  const py = spawnSync(
    join(ROOT, '.venv/bin/python'),
    [
      '-c',
      `
import json, sys, time, numpy as np
from emzoo.evaluate.watershed import segment_affinities
affs = np.load(sys.argv[1]); off = [[-1,0,0],[0,-1,0],[0,0,-1]]
seg = segment_affinities(affs, off)  # warm-up
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter(); seg = segment_affinities(affs, off); times.append((time.perf_counter() - t0) * 1000)
np.save(sys.argv[3], seg.astype(np.int64))
print(json.dumps(times))
`,
      join(dir, 'affs.npy'),
      String(rounds),
      join(dir, 'seg.npy'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(`python reference failed:\n${py.stderr}`);
  const pyTimes = JSON.parse(py.stdout.trim().split('\n').pop() as string) as number[];
  const ref = (await readNpy(join(dir, 'seg.npy'))).data as BigInt64Array;
  const ab = new Map<number, number>();
  let mismatches = 0;
  for (let i = 0; i < seg.length; i++) {
    const b = Number(ref[i]);
    const known = ab.get(seg[i] as number);
    if (known === undefined) ab.set(seg[i] as number, b);
    else if (known !== b) mismatches++;
  }
  const tsMs = median(ts);
  const pyMs = median(pyTimes);
  console.log(`segment_affinities on ${size}³ (3 affinity channels, fill on), median of ${rounds}`);
  console.log(`  TypeScript (pipelines/segmentation): ${tsMs.toFixed(0)} ms`);
  console.log(`  Python (scipy + skimage reference):  ${pyMs.toFixed(0)} ms`);
  console.log(`  ratio TS / Python: ${(tsMs / pyMs).toFixed(2)}`);
  console.log(`  same partition: ${mismatches === 0 ? 'yes' : `no (${mismatches} voxels differ)`}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
