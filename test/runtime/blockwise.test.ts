import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadBackend } from '../../runtime/backend/load-backend.js';
import type { InferenceBackend } from '../../runtime/backend/types.js';
import { isRuntimeError } from '../../runtime/errors.js';
import type { Progress } from '../../runtime/executor/block-loop.js';
import { predictArray } from '../../runtime/executor/predict-array.js';
import { runBlockwise } from '../../runtime/executor/run-blockwise.js';
import { type NdArray, ndarray } from '../../runtime/tensors/ndarray.js';
import { readNpy } from '../../runtime/tensors/npy-read.js';
import type { ModelGeometry } from '../../runtime/tiling/geometry.js';
import { createVolume } from '../../runtime/volumes/create-volume.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES, python, withTempDir } from './helpers.js';

const CONV2: ModelGeometry = {
  minInput: [5, 5, 5],
  step: [1, 1, 1],
  halo: [2, 2, 2],
  inputChannels: 1,
  outputChannels: 2,
};
const UNET1: ModelGeometry = {
  minInput: [18, 18, 18],
  step: [2, 2, 2],
  halo: [8, 8, 8],
  inputChannels: 1,
  outputChannels: 3,
};

let conv2: InferenceBackend;
let unet1: InferenceBackend;
beforeAll(async () => {
  conv2 = await loadBackend(join(FIXTURES, 'conv2.onnx'), { workers: 2 });
  unet1 = await loadBackend(join(FIXTURES, 'unet1.onnx'), { workers: 2 });
});
afterAll(async () => {
  await conv2?.dispose();
  await unet1?.dispose();
});

/** Smallest valid input covering the volume plus both halos (the single-pass input size). */
function singlePassSize(g: ModelGeometry, v: readonly number[]): number[] {
  return v.map((n, a) => {
    const need = n + 2 * (g.halo[a] as number) - (g.minInput[a] as number);
    return (
      (g.minInput[a] as number) + Math.max(0, Math.ceil(need / (g.step[a] as number))) * (g.step[a] as number)
    );
  });
}

/** Runs the whole padded volume through the model at once and crops the output to the volume. */
async function singlePass(backend: InferenceBackend, padded: NdArray<'float32'>, v: readonly number[]) {
  const { out } = await backend.run({
    raw: { dtype: 'float32', shape: [1, 1, ...padded.shape], data: padded.data },
  });
  const [, c, ...os] = (out as NdArray).shape as number[];
  const res = new Float32Array((c as number) * v.reduce((a, b) => a * b, 1));
  let k = 0;
  const src = out?.data as Float32Array;
  for (let ch = 0; ch < (c as number); ch++)
    for (let z = 0; z < (v[0] as number); z++)
      for (let y = 0; y < (v[1] as number); y++)
        for (let x = 0; x < (v[2] as number); x++)
          res[k++] = src[
            ((ch * (os[0] as number) + z) * (os[1] as number) + y) * (os[2] as number) + x
          ] as number;
  return res;
}

/** Zero padding done here, independently of runtime/tiling. */
function zeroPad(data: Float32Array, v: readonly number[], g: ModelGeometry): NdArray<'float32'> {
  const s = singlePassSize(g, v);
  const h = g.halo;
  const out = ndarray('float32', s);
  for (let z = 0; z < (v[0] as number); z++)
    for (let y = 0; y < (v[1] as number); y++)
      for (let x = 0; x < (v[2] as number); x++)
        out.data[
          ((z + (h[0] as number)) * (s[1] as number) + y + (h[1] as number)) * (s[2] as number) +
            x +
            (h[2] as number)
        ] = data[(z * (v[1] as number) + y) * (v[2] as number) + x] as number;
  return out;
}

async function writeInput(path: string, v: number[], seed: number): Promise<Float32Array> {
  const data = new Float32Array(v.reduce((a, b) => a * b, 1));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = s / 2 ** 30 - 1;
  }
  const w = await createVolume(path, {
    shape: v,
    chunks: [8, 8, 8],
    dtype: 'float32',
    ome: { channelAxis: false },
  });
  await w.write([0, 0, 0], ndarray('float32', v, data));
  return data;
}

async function readAll(path: string): Promise<NdArray> {
  const vol = await openVolume(path);
  return vol.read({ start: vol.shape.map(() => 0), stop: vol.shape });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('tiled output equals a single pass (volume sizes not multiples of the block)', () => {
  test.each([
    ['conv2', () => conv2, CONV2, [23, 29, 31], 2 * 240_000],
    ['unet1 (pooling: step 2)', () => unet1, UNET1, [21, 26, 30], 2 * 2_600_000],
  ] as const)('%s, zero padding, blocks from the memory budget', async (_name, backend, g, v, budget) => {
    await withTempDir(async (dir) => {
      const data = await writeInput(join(dir, 'in.zarr'), [...v], 11);
      const progress: Progress[] = [];
      const res = await runBlockwise({
        backend: backend(),
        geometry: g,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: budget,
        onProgress: (p) => progress.push(p),
      });
      expect(res.plan.blockCount).toBeGreaterThan(8);
      expect(res.plan.stride.some((st, a) => v[a] % st !== 0)).toBe(true);
      expect(res.processed).toBe(res.plan.blockCount);
      expect(progress.map((p) => p.done)).toEqual(
        Array.from({ length: res.plan.blockCount }, (_, i) => i + 1),
      );
      expect(progress.at(-1)?.etaMs).toBe(0);
      const want = await singlePass(backend(), zeroPad(data, v, g), v);
      const got = await readAll(join(dir, 'out.zarr'));
      expect(got.shape).toEqual([g.outputChannels, ...v]);
      expect(maxAbsDiff(got.data as Float32Array, want)).toBeLessThan(1e-5);
    });
  });

  test('unet1 on a uint8 zarr v2 input with reflect padding and fixed gain/offset; float32 and uint8 outputs', async () => {
    await withTempDir(async (dir) => {
      const v = [13, 17, 19];
      const s = singlePassSize(UNET1, v);
      // numpy pads and normalises the reference input (reflect), independently of runtime/tiling.
      await python(
        `import sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float32) * np.float32(1/255) - np.float32(0.5)
s = [int(x) for x in sys.argv[3].split(",")]
p = np.pad(a, [(8, n - m - 8) for n, m in zip(s, a.shape)], mode="reflect")
np.save(sys.argv[2], p.astype(np.float32))`,
        [join(FIXTURES, 'v2_u8_blosc.npy'), join(dir, 'ref_in.npy'), s.join(',')],
      );
      const padded = (await readNpy(join(dir, 'ref_in.npy'))) as NdArray<'float32'>;
      const want = await singlePass(unet1, padded, v);
      const common = {
        backend: unet1,
        geometry: UNET1,
        input: join(FIXTURES, 'v2_u8_blosc.zarr'),
        memoryBudgetBytes: 1e9,
        blockInput: [22, 22, 24],
        padding: 'reflect' as const,
        normalization: { kind: 'scale_linear' as const, gain: 1 / 255, offset: -0.5 },
      };
      const f = await runBlockwise({ ...common, output: join(dir, 'f32.zarr') });
      expect(f.plan.blockCount).toBe(27);
      expect(maxAbsDiff((await readAll(join(dir, 'f32.zarr'))).data as Float32Array, want)).toBeLessThan(
        1e-5,
      );

      await runBlockwise({ ...common, output: join(dir, 'u8.zarr'), outputDtype: 'uint8' });
      const u8 = await readAll(join(dir, 'u8.zarr'));
      expect(u8.dtype).toBe('uint8');
      const wantU8 = want.map((x) => Math.min(255, Math.max(0, Math.round(x * 255))));
      // Values a hair from a .5 rounding edge may land one step apart; nothing more.
      expect(maxAbsDiff(u8.data as Uint8Array, wantU8)).toBeLessThanOrEqual(1);
    });
  });
});

describe('predictArray (in-memory tensors)', () => {
  test('tiles an array like runBlockwise tiles a volume, equal to a single pass; a channel axis is accepted', async () => {
    await withTempDir(async (dir) => {
      const v = [21, 26, 30];
      const data = await writeInput(join(dir, 'in.zarr'), v, 17);
      const want = await singlePass(unet1, zeroPad(data, v, UNET1), v);
      let blocks = 0;
      const got = await predictArray(ndarray('float32', [1, ...v], data.slice()), {
        backend: unet1,
        geometry: UNET1,
        memoryBudgetBytes: 2 * 2_600_000,
        onProgress: () => blocks++,
      });
      expect(blocks).toBeGreaterThan(8);
      expect(got.shape).toEqual([3, ...v]);
      expect(maxAbsDiff(got.data, want)).toBeLessThan(1e-5);
      const flat = await predictArray(ndarray('float32', v, data.slice()), {
        backend: unet1,
        geometry: UNET1,
        memoryBudgetBytes: 1e9,
      });
      expect(maxAbsDiff(flat.data, want)).toBeLessThan(1e-5);
    });
  });

  test("extent 'valid' computes input − 2·halo, equal to one unpadded pass, in several blocks", async () => {
    await withTempDir(async (dir) => {
      const v = [26, 30, 34]; // valid UNET1 inputs (18 + 2k), so one pass over the array is the reference
      const data = await writeInput(join(dir, 'in.zarr'), v, 23);
      const { out } = await unet1.run({ raw: { dtype: 'float32', shape: [1, 1, ...v], data: data.slice() } });
      let blocks = 0;
      const got = await predictArray(ndarray('float32', v, data.slice()), {
        backend: unet1,
        geometry: UNET1,
        memoryBudgetBytes: 2 * 2_600_000,
        extent: 'valid',
        onProgress: () => blocks++,
      });
      expect(blocks).toBeGreaterThan(1);
      expect(got.shape).toEqual([3, 10, 14, 18]);
      expect(out?.shape).toEqual([1, 3, 10, 14, 18]);
      expect(maxAbsDiff(got.data, out?.data as Float32Array)).toBeLessThan(1e-5);
      const tooSmall = await predictArray(ndarray('float32', [16, 30, 30]), {
        backend: unet1,
        geometry: UNET1,
        memoryBudgetBytes: 1e9,
        extent: 'valid',
      }).catch((e: unknown) => e);
      expect(isRuntimeError(tooSmall, 'ShapeMismatch')).toBe(true);
    });
  });
});

describe('resume', () => {
  test('an aborted run records its done blocks; the re-run computes only the rest and the output is complete', async () => {
    await withTempDir(async (dir) => {
      const v = [23, 29, 31];
      const data = await writeInput(join(dir, 'in.zarr'), v, 5);
      const opts = {
        backend: conv2,
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 2 * 240_000,
      };
      const ac = new AbortController();
      const err = await runBlockwise({
        ...opts,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.done >= 3) ac.abort();
        },
      }).catch((e: unknown) => e);
      expect(isRuntimeError(err, 'Aborted')).toBe(true);

      const lines = (await readFile(join(dir, 'out.zarr.done.jsonl'), 'utf8')).trim().split('\n');
      const doneBefore = lines.length - 1; // first line names the plan
      expect(doneBefore).toBeGreaterThanOrEqual(3);

      const ran: number[] = [];
      const res = await runBlockwise({ ...opts, onProgress: (p) => ran.push(p.blockId) });
      expect(res.skipped).toBe(doneBefore);
      expect(res.processed).toBe(res.plan.blockCount - doneBefore);
      const logged = new Set(lines.slice(1).map((l) => JSON.parse(l).block as number));
      expect(ran.some((id) => logged.has(id))).toBe(false);

      const want = await singlePass(conv2, zeroPad(data, v, CONV2), v);
      expect(maxAbsDiff((await readAll(join(dir, 'out.zarr'))).data as Float32Array, want)).toBeLessThan(
        1e-5,
      );

      const again = await runBlockwise(opts);
      expect(again.processed).toBe(0);
      expect(again.skipped).toBe(res.plan.blockCount);

      const mismatch = await runBlockwise({
        ...opts,
        normalization: { kind: 'scale_linear', gain: 2, offset: 0 },
      }).catch((e: unknown) => e);
      expect(isRuntimeError(mismatch, 'ResumeMismatch')).toBe(true);
    });
  });
});

describe('resume edge cases', () => {
  test('a log whose output was deleted is stale and the run starts over; an output without a log is refused', async () => {
    await withTempDir(async (dir) => {
      await writeInput(join(dir, 'in.zarr'), [12, 12, 12], 9);
      const opts = {
        backend: conv2,
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 2 * 240_000,
      };
      const first = await runBlockwise(opts);
      await rm(join(dir, 'out.zarr'), { recursive: true });
      const second = await runBlockwise(opts);
      expect(second.skipped).toBe(0);
      expect(second.processed).toBe(first.plan.blockCount);
      await rm(join(dir, 'out.zarr.done.jsonl'));
      const err = await runBlockwise(opts).catch((e: unknown) => e);
      expect(isRuntimeError(err, 'Volume')).toBe(true);
      expect((err as Error).message).toMatch(/no done-blocks log/);
    });
  });
});

describe('output metadata', () => {
  test("an OME-Zarr input's voxel size and offset carry over to the output; channel names are written", async () => {
    await withTempDir(async (dir) => {
      const w = await createVolume(join(dir, 'in.zarr'), {
        shape: [10, 11, 12],
        chunks: [8, 8, 8],
        dtype: 'uint8',
        ome: { channelAxis: false, voxelSize: [40, 4, 4], translation: [400, 80, 120] },
      });
      await w.write([0, 0, 0], ndarray('uint8', [10, 11, 12]));
      await runBlockwise({
        backend: conv2,
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 1e8,
        ome: { channelNames: ['a', 'b'] },
      });
      const ome = JSON.parse(await readFile(join(dir, 'out.zarr', 'zarr.json'), 'utf8')).attributes.ome;
      expect(ome.multiscales[0].datasets[0].coordinateTransformations).toEqual([
        { type: 'scale', scale: [1, 40, 4, 4] },
        { type: 'translation', translation: [0, 400, 80, 120] },
      ]);
      expect(ome.omero.channels.map((c: { label: string }) => c.label)).toEqual(['a', 'b']);
    });
  });
});

describe('executor limits and input checks', () => {
  test('at most maxInFlight blocks are inside the backend at once', async () => {
    await withTempDir(async (dir) => {
      await writeInput(join(dir, 'in.zarr'), [20, 20, 20], 3);
      let inside = 0;
      let peak = 0;
      const counting: InferenceBackend = {
        modelPath: conv2.modelPath,
        device: conv2.device,
        inputs: conv2.inputs,
        outputs: conv2.outputs,
        dispose: async () => {},
        run: async (feeds, o) => {
          inside++;
          peak = Math.max(peak, inside);
          try {
            return await conv2.run(feeds, o);
          } finally {
            inside--;
          }
        },
      };
      const res = await runBlockwise({
        backend: counting,
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 3 * 100_000,
        maxInFlight: 3,
      });
      expect(res.plan.blockCount).toBeGreaterThan(10);
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1);
    });
  });

  test('a run that fails once is retried (also the last block, after the source ran dry); the output is complete', async () => {
    await withTempDir(async (dir) => {
      await writeInput(join(dir, 'in.zarr'), [20, 20, 20], 5);
      const opts = {
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        memoryBudgetBytes: 3 * 100_000,
        maxInFlight: 2,
      };
      const clean = await runBlockwise({ ...opts, backend: conv2, output: join(dir, 'clean.zarr') });
      const total = clean.plan.blockCount;
      expect(total).toBeGreaterThan(4);
      for (const failAt of [2, total]) {
        let calls = 0;
        const flaky: InferenceBackend = {
          modelPath: conv2.modelPath,
          device: conv2.device,
          inputs: conv2.inputs,
          outputs: conv2.outputs,
          dispose: async () => {},
          run: async (feeds, o) => {
            calls++;
            if (calls === failAt) throw new Error(`transient failure of call ${calls}`);
            return conv2.run(feeds, o);
          },
        };
        const out = join(dir, `flaky-${failAt}.zarr`);
        const res = await runBlockwise({ ...opts, backend: flaky, output: out });
        expect(res.processed).toBe(total);
        expect(calls).toBe(total + 1);
        const a = await openVolume(join(dir, 'clean.zarr'), { path: '0' });
        const b = await openVolume(out, { path: '0' });
        const all = { start: [0, 0, 0, 0], stop: a.shape };
        expect(Array.from((await b.read(all)).data as Float32Array)).toEqual(
          Array.from((await a.read(all)).data as Float32Array),
        );
      }
    });
  });

  test('a geometry whose channel counts disagree with the model is refused before any block runs', async () => {
    const err = await predictArray(ndarray('float32', [8, 8, 8]), {
      backend: conv2,
      geometry: { ...CONV2, outputChannels: 3 },
      memoryBudgetBytes: 1e8,
    }).catch((e: unknown) => e);
    expect(isRuntimeError(err, 'ShapeMismatch')).toBe(true);
    expect((err as Error).message).toMatch(
      /model outputs of .*conv2\.onnx: expected one float32 output \[N, 3, ·, ·, ·\]/,
    );
  });

  test('an input with the wrong channel count is refused before any block runs', async () => {
    await withTempDir(async (dir) => {
      await createVolume(join(dir, 'in.zarr'), {
        shape: [2, 8, 8, 8],
        chunks: [1, 8, 8, 8],
        dtype: 'float32',
        ome: { channelAxis: true },
      });
      const err = await runBlockwise({
        backend: conv2,
        geometry: CONV2,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 1e8,
      }).catch((e: unknown) => e);
      expect(isRuntimeError(err, 'ShapeMismatch')).toBe(true);
      expect((err as Error).message).toMatch(/expected \[z, y, x\] or \[1, z, y, x\], got \[2, 8, 8, 8\]/);
    });
  });
});
