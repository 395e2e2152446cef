/**
 * Synful partners and matching against emzoo.evaluate.synful_extract / matching on the same
 * arrays (locations to 1e-6 nm), plus hand-computed cases and a brute-force assignment check.
 */
import { describe, expect, test } from 'vitest';
import {
  extractPartners,
  linearSumAssignment,
  matchPairs,
  type PartnerPair,
  scorePartners,
} from '../../pipelines/synful/index.js';
import { f32, f64, numbers, random, runPython } from './helpers.js';

type S3 = [number, number, number];

/** Blobs (ellipsoids) of high probability on a low-noise background. */
function blobs(shape: S3, count: number, seed: number): Float32Array {
  const rnd = random(seed);
  const [nz, ny, nx] = shape;
  const p = Float32Array.from({ length: nz * ny * nx }, () => rnd() * 0.4);
  for (let b = 0; b < count; b++) {
    const [cz, cy, cx] = shape.map((s) => rnd() * s) as S3;
    const [rz, ry, rx] = [1 + rnd() * 2, 2 + rnd() * 4, 2 + rnd() * 4];
    for (let z = 0, i = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++, i++) {
          const q = ((z - cz) / rz) ** 2 + ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2;
          if (q <= 1) p[i] = 0.55 + 0.45 * rnd();
        }
  }
  return p;
}

describe('extractPartners', () => {
  test('one box-shaped component: location at its most interior voxel, partner = location + vector', () => {
    const shape: S3 = [3, 7, 7];
    const n = 3 * 7 * 7;
    const prob = new Float32Array(n);
    // component z 0..2, y 1..5, x 1..5; with 40×4×4 nm the nearest outside voxel is 12 nm away
    // (in y or x) from (z, 3, 3) for every z: the first in raster order, z = 0, wins the tie
    for (let z = 0; z < 3; z++)
      for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) prob[(z * 7 + y) * 7 + x] = 0.75;
    const vectors = new Float32Array(3 * n);
    const at = 3 * 7 + 3;
    vectors[at] = 40;
    vectors[n + at] = -8;
    vectors[2 * n + at] = 12;
    const [p, ...rest] = extractPartners({ shape, data: prob }, vectors, {
      voxelSize: [40, 4, 4],
      offset: [1000, 0, 100],
    });
    expect(rest).toEqual([]);
    expect(p?.post).toEqual([1000, 12, 112]);
    expect(p?.pre).toEqual([1040, 4, 124]);
    expect(p?.size).toBe(75);
    expect(p?.score).toBeCloseTo(75 * 0.75, 10);
    // below the minimum score: nothing
    expect(extractPartners({ shape, data: prob }, vectors, { voxelSize: [40, 4, 4], minScore: 57 })).toEqual(
      [],
    );
  });

  test.each([
    { seed: 1, threshold: 0.5, minScore: 0 },
    { seed: 2, threshold: 0.6, minScore: 5 },
    { seed: 3, threshold: 0.5, minScore: 0 },
  ])('equals synful_extract.extract_partners (seed $seed, threshold $threshold)', async (c) => {
    const shape: S3 = [10, 40, 40];
    const n = 10 * 40 * 40;
    const prob = blobs(shape, 12, c.seed);
    const rnd = random(c.seed + 7);
    const vectors = Float32Array.from({ length: 3 * n }, () => (rnd() - 0.5) * 300);
    const ts = extractPartners({ shape, data: prob }, vectors, {
      voxelSize: [40, 4, 4],
      offset: [80, 12, -8],
      threshold: c.threshold,
      minScore: c.minScore,
    });
    const py = await runPython(
      { prob: f32(shape, prob), vec: f32([3, ...shape], vectors) },
      `
from emzoo.evaluate.synful_extract import extract_partners
p = extract_partners(prob, vec, (40, 4, 4), (80, 12, -8), ${c.threshold}, ${c.minScore})
out['post'] = p.post; out['pre'] = p.pre; out['scores'] = p.scores.astype(np.float64); out['sizes'] = p.sizes
`,
    );
    const post = numbers(py.post as never);
    const pre = numbers(py.pre as never);
    const scores = numbers(py.scores as never);
    const sizes = numbers(py.sizes as never);
    expect(ts.length).toBe(scores.length);
    expect(ts.length).toBeGreaterThan(3);
    ts.forEach((p, k) => {
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(p.post[a] - (post[3 * k + a] as number))).toBeLessThan(1e-6);
        expect(Math.abs(p.pre[a] - (pre[3 * k + a] as number))).toBeLessThan(1e-6);
      }
      expect(p.size).toBe(sizes[k]);
      // numpy sums float32 in float32 (pairwise); here in float64: equal to float32 precision
      expect(Math.abs(p.score - (scores[k] as number)) / (scores[k] as number)).toBeLessThan(1e-6);
    });
  });
});

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

describe('linearSumAssignment', () => {
  test.each([1, 2, 3, 4])('optimal on random matrices vs brute force (seed %i)', (seed) => {
    const rnd = random(seed);
    for (const [r, c] of [
      [4, 4],
      [3, 5],
      [5, 3],
      [6, 6],
    ] as const) {
      const cost = Array.from({ length: r }, () =>
        Array.from({ length: c }, () => Math.floor(rnd() * 20) - 10),
      );
      const got = linearSumAssignment(cost);
      expect(got.length).toBe(Math.min(r, c));
      const at = (i: number, j: number) => (cost[i] as number[])[j] as number;
      const total = got.reduce((s, [i, j]) => s + at(i, j), 0);
      const big = Math.max(r, c);
      let best = Number.POSITIVE_INFINITY;
      for (const perm of permutations(big)) {
        let s = 0;
        for (let i = 0; i < big; i++) {
          const j = perm[i] as number;
          if (i < r && j < c) s += at(i, j);
        }
        best = Math.min(best, s);
      }
      expect(total).toBe(best);
      expect(new Set(got.map((g) => g[1])).size).toBe(got.length);
    }
  });
});

describe('matching', () => {
  test('by hand: the closer prediction wins the one truth; far ones do not match', () => {
    const truth: PartnerPair[] = [{ post: [0, 0, 0], pre: [0, 0, 100] }];
    const predicted: PartnerPair[] = [
      { post: [0, 0, 50], pre: [0, 0, 150] },
      { post: [0, 0, 10], pre: [0, 0, 110] },
      { post: [0, 0, 900], pre: [0, 0, 100] },
    ];
    const s = scorePartners(predicted, truth, 100);
    expect(s.matches).toEqual([[1, 0]]);
    expect([s.tp, s.fp, s.fn]).toEqual([1, 2, 0]);
    expect(s.precision).toBeCloseTo(1 / 3, 15);
    expect(s.recall).toBe(1);
    expect(s.f1).toBeCloseTo(0.5, 15);
  });

  test.each([1, 2])('equals matching.match_pairs on random pairs (seed %i)', async (seed) => {
    const rnd = random(seed);
    const pt = () => [rnd() * 2000, rnd() * 2000, rnd() * 2000];
    const truth = Array.from({ length: 40 }, () => ({ post: pt(), pre: pt() }));
    const jitter = (v: number[]) => v.map((x) => x + (rnd() - 0.5) * 300);
    const predicted = [
      ...truth.slice(0, 30).map((t) => ({ post: jitter(t.post), pre: jitter(t.pre) })),
      ...Array.from({ length: 15 }, () => ({ post: pt(), pre: pt() })),
    ];
    const flat = (ps: { post: number[]; pre: number[] }[], k: 'post' | 'pre') =>
      f64([ps.length, 3], Float64Array.from(ps.flatMap((p) => p[k])));
    const py = await runPython(
      {
        pp: flat(predicted, 'post'),
        pq: flat(predicted, 'pre'),
        gp: flat(truth, 'post'),
        gq: flat(truth, 'pre'),
      },
      `
from emzoo.evaluate.matching import match_pairs
out['m'] = np.array(match_pairs(pp, pq, gp, gq, 200.0), np.int64).reshape(-1, 2)
`,
    );
    const ref = numbers(py.m as never);
    const got = matchPairs(predicted, truth, 200);
    expect(got.flat()).toEqual(ref);
    expect(got.length).toBeGreaterThan(10);
  });
});
