import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isRuntimeError } from '../../runtime/errors.js';
import type { ModelGeometry } from '../../runtime/tiling/geometry.js';
import { resolveNormalization } from '../../runtime/tiling/normalize.js';
import { type PadMode, readPadded } from '../../runtime/tiling/padding.js';
import { blockBytes, planTiles } from '../../runtime/tiling/plan.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES, python } from './helpers.js';

/** Small deterministic PRNG (mulberry32) so the property cases are reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('planTiles (property-style over random geometries and volumes)', () => {
  test('write regions cover every voxel exactly once; read/output regions are consistent and aligned', () => {
    const rand = rng(7);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 200; trial++) {
      const rank = int(1, 3);
      const halo = Array.from({ length: rank }, () => int(0, 6));
      const step = Array.from({ length: rank }, () => [1, 2, 4, 8][int(0, 3)] as number);
      const minInput = halo.map((h, i) => 2 * h + int(1, 3) * (step[i] as number));
      const g: ModelGeometry = { minInput, step, halo, inputChannels: int(1, 2), outputChannels: int(1, 4) };
      const volume = Array.from({ length: rank }, () => int(1, 40));
      const budget = blockBytes(g, minInput) * (1 + rand() * 30);
      const plan = planTiles(volume, g, { memoryBudgetBytes: budget });
      const ctx = JSON.stringify({ g, volume, budget });

      expect(plan.blockBytes, ctx).toBeLessThanOrEqual(budget);
      plan.blockInput.forEach((s, i) => {
        expect((s - (minInput[i] as number)) % (step[i] as number), ctx).toBe(0);
      });
      const count = new Uint8Array(volume.reduce((a, b) => a * b, 1));
      const strides = volume.map((_, i) => volume.slice(i + 1).reduce((a, b) => a * b, 1));
      let n = 0;
      for (const b of plan.blocks()) {
        n++;
        for (let a = 0; a < rank; a++) {
          const h = halo[a] as number;
          const al = step[a] as number;
          expect(b.output.start[a] as number, ctx).toBeLessThanOrEqual(b.write.start[a] as number);
          expect(b.output.stop[a] as number, ctx).toBeGreaterThanOrEqual(b.write.stop[a] as number);
          expect(b.read.start[a], ctx).toBe((b.output.start[a] as number) - h);
          expect(b.read.stop[a], ctx).toBe((b.output.stop[a] as number) + h);
          expect((b.read.stop[a] as number) - (b.read.start[a] as number), ctx).toBe(plan.blockInput[a]);
          expect((b.output.start[a] as number) % al, ctx).toBe(0);
          // Within the padded volume: at most halo (+ alignment remainder / small volume) outside.
          expect(b.read.start[a] as number, ctx).toBeGreaterThanOrEqual(-h);
          expect(b.read.stop[a] as number, ctx).toBeLessThanOrEqual(
            Math.max(volume[a] as number, plan.blockOutput[a] as number) + h + al - 1,
          );
        }
        const rec = (a: number, off: number) => {
          for (let i = b.write.start[a] as number; i < (b.write.stop[a] as number); i++) {
            const o = off + i * (strides[a] as number);
            if (a === rank - 1) count[o] = (count[o] as number) + 1;
            else rec(a + 1, o);
          }
        };
        rec(0, 0);
      }
      expect(n, ctx).toBe(plan.blockCount);
      expect(
        count.every((c) => c === 1),
        ctx,
      ).toBe(true);
    }
  });

  test('a bigger budget never gives a smaller block; blocks stop growing once they cover the volume', () => {
    const g: ModelGeometry = {
      minInput: [18, 18, 18],
      step: [2, 2, 2],
      halo: [8, 8, 8],
      inputChannels: 1,
      outputChannels: 3,
    };
    let prev = 0;
    for (const mb of [2, 4, 8, 16, 64, 256]) {
      const p = planTiles([100, 100, 100], g, { memoryBudgetBytes: mb * 2 ** 20 });
      const vox = p.blockInput.reduce((a, b) => a * b, 1);
      expect(vox).toBeGreaterThanOrEqual(prev);
      prev = vox;
    }
    const small = planTiles([5, 7, 9], g, { memoryBudgetBytes: 2 ** 30 });
    expect(small.blockInput).toEqual([22, 24, 26]);
    expect(small.blockCount).toBe(1);
  });

  test('blocks are balanced: no smaller valid block covers an axis in as few blocks', () => {
    // By hand, lsd-small-mtlsd (min 44, step 4, halo 20) over 256³ with 1 GiB per block: the
    // budget allows about 152 (output 112 → 3 blocks per axis); 3 blocks need an aligned output ≥ 256/3 → 88 → input 128.
    const lsd: ModelGeometry = {
      minInput: [44, 44, 44],
      step: [4, 4, 4],
      halo: [20, 20, 20],
      inputChannels: 1,
      outputChannels: 13,
    };
    const p256 = planTiles([256, 256, 256], lsd, { memoryBudgetBytes: 2 ** 30 });
    expect(p256.blockInput).toEqual([128, 128, 128]);
    expect(p256.blockCount).toBe(27);
    const rand = rng(11);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 200; trial++) {
      const halo = [int(0, 6), int(0, 6), int(0, 6)];
      const step = halo.map(() => [1, 2, 4][int(0, 2)] as number);
      const minInput = halo.map((h, i) => 2 * h + int(1, 3) * (step[i] as number));
      const g: ModelGeometry = { minInput, step, halo, inputChannels: 1, outputChannels: 2 };
      const volume = [int(1, 90), int(1, 90), int(1, 90)];
      const plan = planTiles(volume, g, { memoryBudgetBytes: blockBytes(g, minInput) * (1 + rand() * 50) });
      plan.blockInput.forEach((s, i) => {
        const smaller = s - (step[i] as number);
        if (smaller < (minInput[i] as number)) return;
        const stride =
          Math.floor((smaller - 2 * (halo[i] as number)) / (step[i] as number)) * (step[i] as number);
        const count = stride < 1 ? Number.POSITIVE_INFINITY : Math.ceil((volume[i] as number) / stride);
        expect(count, JSON.stringify({ g, volume, axis: i })).toBeGreaterThan(plan.grid[i] as number);
      });
    }
  });

  test('impossible budgets and invalid explicit blocks are clear InvalidTiling errors', () => {
    const g: ModelGeometry = {
      minInput: [18, 18, 18],
      step: [2, 2, 2],
      halo: [8, 8, 8],
      inputChannels: 1,
      outputChannels: 3,
    };
    const tiny = (() => {
      try {
        planTiles([50, 50, 50], g, { memoryBudgetBytes: 1000 });
      } catch (e) {
        return e;
      }
    })();
    expect(isRuntimeError(tiny, 'InvalidTiling')).toBe(true);
    expect((tiny as { hint: string }).hint).toMatch(/memoryBudgetBytes/);
    expect(() => planTiles([50, 50, 50], g, { memoryBudgetBytes: 1e9, blockInput: [19, 18, 18] })).toThrow(
      /not a valid model input size/,
    );
    expect(() => planTiles([50, 50], g, { memoryBudgetBytes: 1e9 })).toThrow(TypeError);
  });
});

const NUMPY_PAD = `
import json, sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float64)
start, stop = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {}
for mode, np_mode in (("zero", "constant"), ("reflect", "reflect"), ("edge", "edge")):
    pad = [(max(0, -s), max(0, e - n)) for s, e, n in zip(start, stop, a.shape)]
    p = np.pad(a, pad, mode=np_mode)
    sl = tuple(slice(s + lo, e + lo) for s, e, (lo, _) in zip(start, stop, pad))
    out[mode] = (p[sl] * (1 / 255) - 0.5).astype(np.float32).ravel().tolist()
print(json.dumps(out))
`;

describe('readPadded', () => {
  test.each([
    ['inside', [2, 3, 4], [9, 12, 15]],
    ['over every border', [-5, -8, -3], [18, 25, 21]],
    ['wider than the axis', [-20, 0, 0], [30, 3, 2]],
  ])('matches numpy.pad (constant/reflect/edge) for a region %s', async (_name, start, stop) => {
    const vol = await openVolume(join(FIXTURES, 'v2_u8_blosc.zarr'));
    const want = JSON.parse(
      await python(NUMPY_PAD, [
        join(FIXTURES, 'v2_u8_blosc.npy'),
        JSON.stringify(start),
        JSON.stringify(stop),
      ]),
    );
    for (const mode of ['zero', 'reflect', 'edge'] as PadMode[]) {
      const got = await readPadded(vol, { start, stop }, mode, { gain: 1 / 255, offset: -0.5 });
      expect(got.shape).toEqual([1, ...stop.map((s, i) => s - (start[i] as number))]);
      const w = want[mode] as number[];
      // numpy 'constant' pads raw 0, which normalises to -0.5; our 'zero' is 0 in network space.
      const expected = mode === 'zero' ? w.map((v, i) => (isOutside(i, start, stop, vol.shape) ? 0 : v)) : w;
      expect(Array.from(got.data)).toEqual(expected.map(Math.fround));
    }
  });
});

function isOutside(flat: number, start: number[], stop: number[], shape: readonly number[]): boolean {
  const dims = stop.map((s, i) => s - (start[i] as number));
  let rest = flat;
  for (let a = dims.length - 1; a >= 0; a--) {
    const p = (start[a] as number) + (rest % (dims[a] as number));
    rest = Math.floor(rest / (dims[a] as number));
    if (p < 0 || p >= (shape[a] as number)) return true;
  }
  return false;
}

describe('resolveNormalization', () => {
  test('scale_range percentiles equal numpy.percentile over the (whole, small) dataset', async () => {
    const vol = await openVolume(join(FIXTURES, 'v2_f32_zlib.zarr'));
    const map = await resolveNormalization(
      { kind: 'scale_range', minPercentile: 1, maxPercentile: 99.8, eps: 0 },
      vol,
    );
    const [lo, hi] = JSON.parse(
      await python(
        'import sys,json,numpy as np; a=np.load(sys.argv[1]); print(json.dumps(np.percentile(a,[1,99.8]).tolist()))',
        [join(FIXTURES, 'v2_f32_zlib.npy')],
      ),
    );
    expect(map.gain).toBeCloseTo(1 / (hi - lo), 10);
    expect(map.offset).toBeCloseTo(-lo / (hi - lo), 10);
  });

  test('fixed statistics map to gain/offset without reading data', async () => {
    const vol = await openVolume(join(FIXTURES, 'v2_u8_blosc.zarr'));
    expect(
      await resolveNormalization({ kind: 'zero_mean_unit_variance', mean: 10, std: 2, eps: 0 }, vol),
    ).toEqual({
      gain: 0.5,
      offset: -5,
    });
  });
});
