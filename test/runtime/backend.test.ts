import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadBackend } from '../../runtime/backend/load-backend.js';
import { OrtBackend } from '../../runtime/backend/ort-backend.js';
import { OrtPoolBackend } from '../../runtime/backend/ort-pool-backend.js';
import { cachedSessionCount } from '../../runtime/backend/ort-session.js';
import type { InferenceBackend } from '../../runtime/backend/types.js';
import { isRuntimeError } from '../../runtime/errors.js';
import { type NdArray, ndarray } from '../../runtime/tensors/ndarray.js';
import { readNpy } from '../../runtime/tensors/npy-read.js';
import { FIXTURES } from './helpers.js';

const CONV2 = join(FIXTURES, 'conv2.onnx');
const UNET1 = join(FIXTURES, 'unet1.onnx');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe.each([
  ['calling thread', 0],
  ['worker pool', 2],
])('onnxruntime backend on the %s', (_name, workers) => {
  let conv2: InferenceBackend;
  let unet1: InferenceBackend;
  beforeAll(async () => {
    conv2 = await loadBackend(CONV2, { workers });
    unet1 = await loadBackend(UNET1, { workers });
  });
  afterAll(async () => {
    await conv2.dispose();
    await unet1.dispose();
  });

  test('reports input/output metadata with symbolic dims', () => {
    expect(conv2.inputs).toEqual([{ name: 'raw', dtype: 'float32', shape: ['N', 1, 'D', 'H', 'W'] }]);
    expect(conv2.outputs).toEqual([{ name: 'out', dtype: 'float32', shape: ['N', 2, 'Do', 'Ho', 'Wo'] }]);
    expect(conv2.device).toBe('cpu');
  });

  test.each([
    ['conv2', () => conv2],
    ['unet1', () => unet1],
  ])('%s reproduces Python onnxruntime on the fixture input', async (name, backend) => {
    const x = await readNpy(join(FIXTURES, `${name}.test_input.npy`));
    const want = await readNpy(join(FIXTURES, `${name}.test_output.npy`));
    const { out } = await backend().run({ raw: x });
    expect(out?.shape).toEqual(want.shape);
    expect(maxAbsDiff(out?.data as Float32Array, want.data as Float32Array)).toBeLessThan(1e-5);
  });

  test('wrong dtype, rank or channels are refused before onnxruntime sees them', async () => {
    const cases: [NdArray, string][] = [
      [ndarray('uint8', [1, 1, 5, 5, 5]), 'UnsupportedDtype'],
      [ndarray('float32', [1, 5, 5, 5]), 'ShapeMismatch'],
      [ndarray('float32', [1, 2, 5, 5, 5]), 'ShapeMismatch'],
    ];
    for (const [x, tag] of cases) {
      expect(isRuntimeError(await caught(conv2.run({ raw: x })), tag as 'ShapeMismatch')).toBe(true);
    }
    expect(await caught(conv2.run({ x: ndarray('float32', [1, 1, 5, 5, 5]) }))).toBeInstanceOf(TypeError);
  });

  test('an input below the valid size is an Inference error naming the model', async () => {
    const err = await caught(unet1.run({ raw: ndarray('float32', [1, 1, 10, 10, 10]) }));
    expect(isRuntimeError(err, 'Inference')).toBe(true);
    expect((err as Error).message).toContain('unet1.onnx');
  });

  test('CUDA requested on a host without it is a clear ProviderUnavailable error (no CPU fallback)', async () => {
    const err = await caught(loadBackend(CONV2, { workers, device: 'cuda' }));
    expect(isRuntimeError(err, 'ProviderUnavailable')).toBe(true);
    expect((err as Error).message).toMatch(/'cuda' is not available/);
    expect((err as { hint: string }).hint).toMatch(/CUDA 12/);
  });
});

describe('sessions', () => {
  test('are cached by model path + options and released with the last user', async () => {
    const before = cachedSessionCount();
    const a = await OrtBackend.create(CONV2);
    const b = await OrtBackend.create(join(FIXTURES, '.', 'conv2.onnx'));
    const c = await OrtBackend.create(CONV2, { intraOpThreads: 2 });
    expect(cachedSessionCount()).toBe(before + 2);
    await a.dispose();
    expect(cachedSessionCount()).toBe(before + 2);
    await b.dispose();
    await c.dispose();
    expect(cachedSessionCount()).toBe(before);
    expect(isRuntimeError(await caught(a.run({})), 'BackendDisposed')).toBe(true);
  });

  test('a missing model file is a ModelLoad error', async () => {
    const err = await caught(loadBackend(join(FIXTURES, 'nope.onnx'), { workers: 1 }));
    expect(isRuntimeError(err, 'ModelLoad')).toBe(true);
  });

  test('bad option values name the argument', async () => {
    expect(await caught(loadBackend(CONV2, { intraOpThreads: 0 }))).toBeInstanceOf(TypeError);
    expect(await caught(loadBackend(CONV2, { workers: -1 }))).toBeInstanceOf(TypeError);
  });
});

describe('worker-thread inference', () => {
  /** Timer ticks that fire while one run is pending. */
  async function ticksDuringRun(backend: InferenceBackend): Promise<number> {
    await backend.run({ raw: ndarray('float32', [1, 1, 18, 18, 18]) }); // warm: session created
    const x = ndarray('float32', [1, 1, 80, 80, 80]);
    let pending = true;
    let ticks = 0;
    const timer = setInterval(() => {
      if (pending) ticks++;
    }, 5);
    await backend.run({ raw: x }).finally(() => {
      pending = false;
    });
    clearInterval(timer);
    return ticks;
  }

  test("keeps the caller's event loop running while it computes (the calling-thread backend does not)", async () => {
    const pooled = await OrtPoolBackend.create(UNET1, { workers: 1 });
    const inThread = await OrtBackend.create(UNET1);
    try {
      expect(await ticksDuringRun(pooled)).toBeGreaterThan(0);
      // Contrast, so the measurement is known to discriminate: onnxruntime-node computes synchronously.
      expect(await ticksDuringRun(inThread)).toBe(0);
    } finally {
      await pooled.dispose();
      await inThread.dispose();
    }
  });

  test('abort rejects at once, mid-run or queued, and leaves the workers usable (no thread is killed)', async () => {
    const backend = await OrtPoolBackend.create(UNET1, { workers: 1 });
    try {
      const big = () => ndarray('float32', [1, 1, 96, 96, 96]);
      await backend.run({ raw: ndarray('float32', [1, 1, 18, 18, 18]) });
      const running = new AbortController();
      const queued = new AbortController();
      const first = backend.run({ raw: big() }, { signal: running.signal });
      const second = backend.run({ raw: big() }, { signal: queued.signal }); // waits: one worker
      await new Promise((r) => setTimeout(r, 30));
      running.abort();
      queued.abort();
      expect(isRuntimeError(await caught(first), 'Aborted')).toBe(true);
      expect(isRuntimeError(await caught(second), 'Aborted')).toBe(true);
      const pre = new AbortController();
      pre.abort();
      expect(
        isRuntimeError(await caught(backend.run({ raw: big() }, { signal: pre.signal })), 'Aborted'),
      ).toBe(true);
      const { out } = await backend.run({ raw: ndarray('float32', [1, 1, 18, 18, 18]) });
      expect(out?.shape).toEqual([1, 3, 2, 2, 2]);
    } finally {
      await backend.dispose();
    }
  });

  test('dispose right after an abort waits for the abandoned run instead of killing its thread', async () => {
    const backend = await OrtPoolBackend.create(UNET1, { workers: 1 });
    await backend.run({ raw: ndarray('float32', [1, 1, 18, 18, 18]) });
    const ac = new AbortController();
    const run = backend.run({ raw: ndarray('float32', [1, 1, 96, 96, 96]) }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 30));
    ac.abort();
    expect(isRuntimeError(await caught(run), 'Aborted')).toBe(true);
    await backend.dispose(); // would end the test process with std::terminate if the worker were killed mid-run
    expect(isRuntimeError(await caught(backend.run({})), 'BackendDisposed')).toBe(true);
  });

  test('transfer moves the input buffer instead of copying it', async () => {
    const backend = await OrtPoolBackend.create(CONV2, { workers: 1 });
    try {
      const x = ndarray('float32', [1, 1, 6, 6, 6]);
      const { out } = await backend.run({ raw: x }, { transfer: true });
      expect(out?.shape).toEqual([1, 2, 2, 2, 2]);
      expect(x.data.byteLength).toBe(0); // detached
    } finally {
      await backend.dispose();
    }
  });
});
