/** Test volumes and the single-process reference (runBlockwise on one machine). */
import { join } from 'node:path';
import { loadBackend } from '../../runtime/backend/load-backend.js';
import { runBlockwise } from '../../runtime/executor/run-blockwise.js';
import { ndarray } from '../../runtime/tensors/ndarray.js';
import type { ModelGeometry } from '../../runtime/tiling/geometry.js';
import { createVolume } from '../../runtime/volumes/create-volume.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES } from '../runtime/helpers.js';

export const UNET1_MODEL = join(FIXTURES, 'unet1.onnx');
export const UNET1: ModelGeometry = {
  minInput: [18, 18, 18],
  step: [2, 2, 2],
  halo: [8, 8, 8],
  inputChannels: 1,
  outputChannels: 3,
};

/** A seeded random uint8 [z,y,x] zarr (raw EM stand-in). */
export async function writeRaw(path: string, shape: readonly number[], seed = 7): Promise<void> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  const w = await createVolume(path, {
    shape,
    chunks: [16, 16, 16],
    dtype: 'uint8',
    ome: { channelAxis: false },
  });
  await w.write([0, 0, 0], ndarray('uint8', shape, data));
}

/** The whole [c,z,y,x] output as float32. */
export async function readAll(path: string): Promise<Float32Array> {
  const v = await openVolume(path);
  const a = await v.read({ start: v.shape.map(() => 0), stop: [...v.shape] });
  return Float32Array.from(a.data as ArrayLike<number>);
}

/** One machine, one process: the result the distributed run must reproduce. */
export async function referenceRun(
  input: string,
  output: string,
  blockInput: readonly number[],
  gain: number,
): Promise<Float32Array> {
  const backend = await loadBackend(UNET1_MODEL, { workers: 1 });
  try {
    await runBlockwise({
      backend,
      geometry: UNET1,
      input,
      output,
      blockInput,
      memoryBudgetBytes: 2 ** 28,
      normalization: { kind: 'scale_linear', gain, offset: 0 },
    });
  } finally {
    await backend.dispose();
  }
  return readAll(output);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
