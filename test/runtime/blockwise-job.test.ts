import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isRuntimeError } from '../../runtime/errors.js';
import type { Progress } from '../../runtime/executor/block-loop.js';
import { startBlockwiseJob } from '../../runtime/executor/blockwise-job.js';
import { ndarray } from '../../runtime/tensors/ndarray.js';
import { readNpy } from '../../runtime/tensors/npy-read.js';
import { createVolume } from '../../runtime/volumes/create-volume.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES, withTempDir } from './helpers.js';

const GEOMETRY = {
  minInput: [5, 5, 5],
  step: [1, 1, 1],
  halo: [2, 2, 2],
  inputChannels: 1,
  outputChannels: 2,
};
const MODEL = join(FIXTURES, 'conv2.onnx');

describe('startBlockwiseJob (runBlockwise in its own thread)', () => {
  test('produces the output of the model over the volume, reports progress, resumes after abort', async () => {
    await withTempDir(async (dir) => {
      // The fixture's test input is one 9×10×11 volume with Python onnxruntime's output for it
      // (valid conv, so its output is the interior 5×6×7 of ours).
      const x = await readNpy(join(FIXTURES, 'conv2.test_input.npy'));
      const want = await readNpy(join(FIXTURES, 'conv2.test_output.npy'));
      const v = [9, 10, 11];
      const w = await createVolume(join(dir, 'in.zarr'), {
        shape: v,
        chunks: [4, 4, 4],
        dtype: 'float32',
        ome: { channelAxis: false },
      });
      await w.write([0, 0, 0], ndarray('float32', v, x.data as Float32Array));
      const options = {
        model: MODEL,
        backendOptions: { workers: 1 },
        geometry: GEOMETRY,
        input: join(dir, 'in.zarr'),
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 2 * 40_000,
      };
      const ac = new AbortController();
      const err = await startBlockwiseJob(options, {
        signal: ac.signal,
        onProgress: () => ac.abort(),
      }).catch((e: unknown) => e);
      expect(isRuntimeError(err, 'Aborted')).toBe(true);
      expect((err as { hint: string }).hint).toMatch(/resume/);

      const progress: Progress[] = [];
      const res = await startBlockwiseJob(options, { onProgress: (p) => progress.push(p) });
      expect(res.skipped).toBeGreaterThanOrEqual(1);
      expect(res.processed + res.skipped).toBe(res.blockCount);
      expect(progress.at(-1)?.done).toBe(res.blockCount);

      const out = await openVolume(join(dir, 'out.zarr'));
      const interior = await out.read({ start: [0, 2, 2, 2], stop: [2, 7, 8, 9] });
      const a = interior.data as Float32Array;
      const b = want.data as Float32Array;
      expect(a.length).toBe(b.length);
      expect(Math.max(...a.map((val, i) => Math.abs(val - (b[i] as number))))).toBeLessThan(1e-5);
    });
  });

  test('errors cross the thread boundary with their tag and hint', async () => {
    await withTempDir(async (dir) => {
      const base = {
        model: MODEL,
        geometry: GEOMETRY,
        output: join(dir, 'out.zarr'),
        memoryBudgetBytes: 1e8,
      };
      const cuda = await startBlockwiseJob({
        ...base,
        input: join(FIXTURES, 'v2_u8_blosc.zarr'),
        backendOptions: { device: 'cuda' },
      }).catch((e: unknown) => e);
      expect(isRuntimeError(cuda, 'ProviderUnavailable')).toBe(true);
      expect((cuda as { hint: string }).hint).toMatch(/CUDA 12/);
      const missing = await startBlockwiseJob({ ...base, input: join(dir, 'nope.zarr') }).catch(
        (e: unknown) => e,
      );
      expect(isRuntimeError(missing, 'Volume')).toBe(true);
      expect((missing as Error).message).toContain('nope.zarr');
    });
  });
});
