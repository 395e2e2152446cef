/**
 * Affinities → segmentation against the Python reference (emzoo.evaluate.watershed, scipy +
 * skimage) on the same arrays, plus hand-computed EDT / watershed / agglomeration cases.
 */
import { describe, expect, test } from 'vitest';
import {
  affinities,
  agglomerateMean,
  fillBackground,
  fragmentsFromAffinities,
  labelComponents,
  segmentAffinities,
  squaredEdt,
  watershed,
} from '../../pipelines/segmentation/index.js';
import {
  affinitiesOf,
  f32,
  i32,
  NEAREST_OFFSETS,
  numbers,
  partitionMismatches,
  random,
  runPython,
  voronoiLabels,
} from './helpers.js';

type S3 = [number, number, number];

function bruteSquaredEdt(mask: Uint8Array, shape: S3, s: S3): number[] {
  const [nz, ny, nx] = shape;
  const zeros: S3[] = [];
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) if (!mask[(z * ny + y) * nx + x]) zeros.push([z, y, x]);
  const out: number[] = [];
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        let best = Number.POSITIVE_INFINITY;
        if (!mask[(z * ny + y) * nx + x]) best = 0;
        else
          for (const [a, b, c] of zeros)
            best = Math.min(best, ((z - a) * s[0]) ** 2 + ((y - b) * s[1]) ** 2 + ((x - c) * s[2]) ** 2);
        out.push(best);
      }
  return out;
}

describe('exact EDT', () => {
  test('a line: distances to the nearest zero by hand', () => {
    const mask = Uint8Array.from([0, 1, 1, 1, 1, 0, 1, 1]);
    const d = squaredEdt({ shape: [1, 1, 8], data: mask });
    expect(Array.from(d)).toEqual([0, 1, 4, 4, 1, 0, 1, 4]);
  });

  test('a single zero voxel in a 3³ cube, anisotropic sampling (40, 4, 4)', () => {
    const mask = new Uint8Array(27).fill(1);
    mask[0] = 0;
    const d = squaredEdt({ shape: [3, 3, 3], data: mask }, [40, 4, 4]);
    // voxel (2, 2, 2): (2·40)² + (2·4)² + (2·4)² = 6400 + 64 + 64
    expect(d[26]).toBe(6528);
    expect(d[1]).toBe(16);
    expect(d[9]).toBe(1600);
  });

  test.each([1, 2, 3])('random masks equal brute force (seed %i)', (seed) => {
    const rnd = random(seed);
    const shape: S3 = [5, 7, 6];
    const mask = Uint8Array.from({ length: 210 }, () => (rnd() < 0.9 ? 1 : 0));
    for (const s of [[1, 1, 1] as S3, [40, 4, 4] as S3, [3, 1, 2] as S3]) {
      expect(Array.from(squaredEdt({ shape, data: mask }, s))).toEqual(bruteSquaredEdt(mask, shape, s));
    }
  });

  test('no zero voxel: infinite distance', () => {
    const d = squaredEdt({ shape: [1, 2, 2], data: new Uint8Array(4).fill(1) });
    expect(Array.from(d)).toEqual(new Array(4).fill(Number.POSITIVE_INFINITY));
  });
});

describe('watershed and components by hand', () => {
  test('two markers flood a valley line and meet at the ridge', () => {
    const image = Float32Array.from([0, 1, 2, 5, 3, 1, 0]);
    const markers = Int32Array.from([1, 0, 0, 0, 0, 0, 2]);
    // pops: the markers (0, 0), then both value-1 voxels (age order: basin 1 pushed first), then
    // basin 1's value 2, which pushes (and so labels) the ridge 5 before basin 2 pops its 3
    const out = watershed({ shape: [1, 1, 7], data: image }, markers);
    expect(Array.from(out)).toEqual([1, 1, 1, 1, 2, 2, 2]);
  });

  test('components are numbered in raster order of their first voxel, face connectivity only', () => {
    const mask = Uint8Array.from([1, 0, 1, 0, 1, 1, 0, 0, 1]); // 3×3 plane
    const { labels, count } = labelComponents({ shape: [1, 3, 3], data: mask });
    expect(count).toBe(2);
    expect(Array.from(labels)).toEqual([1, 0, 2, 0, 2, 2, 0, 0, 2]);
  });

  test('agglomeration merges the two halves of one object and stops at the threshold', () => {
    // 1×1×6 line, fragments 1 1 2 2 3 3; x affinity between 1|2 = 0.9, between 2|3 = 0.2
    const shape: S3 = [1, 1, 6];
    const affs = new Float32Array(18);
    affs.fill(1, 12, 18);
    affs[12 + 2] = 0.9; // x-affinity at voxel 2 joins voxels 1 and 2
    affs[12 + 4] = 0.2;
    const a = affinities([3, 1, 1, 6], affs, NEAREST_OFFSETS);
    const frags = { shape, data: Int32Array.from([1, 1, 2, 2, 3, 3]), count: 3 };
    expect(Array.from(agglomerateMean(a, frags, 0.5).data)).toEqual([1, 1, 1, 1, 3, 3]);
    expect(Array.from(agglomerateMean(a, frags, 0.1).data)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('fill gives band voxels the nearest segment', () => {
    const seg = { shape: [1, 1, 7] as S3, data: Int32Array.from([0, 4, 0, 0, 0, 0, 9]) };
    // voxel 3: 2 from the 4 at x=1, 3 from the 9 at x=6
    expect(Array.from(fillBackground(seg).data)).toEqual([4, 4, 4, 4, 9, 9, 9]);
  });
});

interface Case {
  shape: S3;
  cells: number;
  noise: number;
  seed: number;
  minSeed: number;
}

const CASES: Case[] = [
  { shape: [12, 24, 24], cells: 8, noise: 0.3, seed: 1, minSeed: 10 },
  { shape: [16, 20, 28], cells: 15, noise: 0.45, seed: 2, minSeed: 4 },
  { shape: [10, 32, 32], cells: 5, noise: 0.0, seed: 3, minSeed: 10 },
  { shape: [20, 20, 20], cells: 30, noise: 0.2, seed: 4, minSeed: 3 },
];

describe('watershed equals skimage.segmentation.watershed', () => {
  test.each([1, 2, 3])('random plateaus and markers (seed %i)', async (seed) => {
    const shape: S3 = [6, 9, 8];
    const n = 6 * 9 * 8;
    const rnd = random(seed);
    // integer values: many plateaus, so the flood order among ties is what is tested
    const img = Float32Array.from({ length: n }, () => Math.floor(rnd() * 5));
    const mk = Int32Array.from({ length: n }, () => (rnd() < 0.03 ? 1 + Math.floor(rnd() * 4) : 0));
    const py = await runPython(
      { img: f32(shape, img), mk: i32(shape, mk) },
      `
from skimage.segmentation import watershed as ws
out['w'] = ws(img, mk).astype(np.int64)
`,
    );
    expect(Array.from(watershed({ shape, data: img }, mk))).toEqual(numbers(py.w as never));
  });
});

describe('identical partitions to emzoo.evaluate.watershed', () => {
  test.each(CASES)('$shape, $cells cells, noise $noise, min seed distance $minSeed', async (c) => {
    const labels = voronoiLabels(c.shape, c.cells, c.seed);
    const data = affinitiesOf(labels, c.shape, c.noise, c.seed + 100);
    const a = affinities([3, ...c.shape], data, NEAREST_OFFSETS);
    const frags = fragmentsFromAffinities(a, c.minSeed);
    const merged = agglomerateMean(a, frags, 0.5);
    const filled = fillBackground(merged);
    const py = await runPython(
      { affs: f32([3, ...c.shape], data) },
      `
from emzoo.evaluate.watershed import fragments, agglomerate_mean, fill_background
off = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]
fr = fragments(affs, off, ${c.minSeed})
ag = agglomerate_mean(affs, off, fr, 0.5)
out['frags'] = fr.astype(np.int64)
out['merged'] = ag.astype(np.int64)
out['filled'] = fill_background(ag).astype(np.int64)
`,
    );
    const pyFrags = numbers(py.frags as never);
    expect(Math.max(...pyFrags)).toBe(frags.count); // same number of fragments (ids 1..n)
    expect(frags.count).toBeGreaterThan(1);
    expect(partitionMismatches(frags.data, pyFrags)).toBe(0);
    expect(partitionMismatches(merged.data, numbers(py.merged as never))).toBe(0);
    expect(partitionMismatches(filled.data, numbers(py.filled as never))).toBe(0);
    expect(new Set(filled.data).size).toBeLessThan(frags.count + 1); // something merged
    // the one-call form gives the same as the steps
    expect(Array.from(segmentAffinities(a, { minSeedDistance: c.minSeed }).data)).toEqual(
      Array.from(filled.data),
    );
  });

  test('long-range offsets: only the nearest channels make the foreground, all join the graph', async () => {
    const shape: S3 = [12, 20, 20];
    const labels = voronoiLabels(shape, 10, 9);
    const near = affinitiesOf(labels, shape, 0.3, 10);
    const n = 12 * 20 * 20;
    const data = new Float32Array(4 * n);
    data.set(near);
    const rnd = random(11);
    for (let i = 0; i < n; i++) data[3 * n + i] = rnd();
    const offsets = [...NEAREST_OFFSETS, [0, -3, 0]];
    const a = affinities([4, ...shape], data, offsets);
    const seg = segmentAffinities(a, { threshold: 0.6, minSeedDistance: 5, fill: false });
    const py = await runPython(
      { affs: f32([4, ...shape], data) },
      `
from emzoo.evaluate.watershed import segment_affinities
out['seg'] = segment_affinities(affs, [[-1,0,0],[0,-1,0],[0,0,-1],[0,-3,0]], 0.6, 5, False).astype(np.int64)
`,
    );
    expect(partitionMismatches(seg.data, numbers(py.seg as never))).toBe(0);
  });

  test('a volume with no boundary is one fragment, as in the reference', async () => {
    const data = new Float32Array(3 * 4 * 5 * 5).fill(1);
    const a = affinities([3, 4, 5, 5], data, NEAREST_OFFSETS);
    const py = await runPython(
      { affs: f32([3, 4, 5, 5], data) },
      `
from emzoo.evaluate.watershed import segment_affinities
out['seg'] = segment_affinities(affs, [[-1,0,0],[0,-1,0],[0,0,-1]], 0.5, 3).astype(np.int64)
`,
    );
    expect(numbers(py.seg as never).every((v) => v === 1)).toBe(true);
    expect(Array.from(segmentAffinities(a, { minSeedDistance: 3 }).data).every((v) => v === 1)).toBe(true);
  });

  test('a volume with no foreground gives no fragment', () => {
    const a = affinities([3, 2, 3, 3], new Float32Array(54), NEAREST_OFFSETS);
    const f = fragmentsFromAffinities(a);
    expect(f.count).toBe(0);
    expect(f.data.every((v) => v === 0)).toBe(true);
  });
});
