import type { InferenceBackend } from '../backend/types.js';
import { ShapeMismatchError } from '../errors.js';
import { type NdArray, ndarray, stridesOf } from '../tensors/ndarray.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import { type Normalization, resolveNormalization } from '../tiling/normalize.js';
import type { PadMode } from '../tiling/padding.js';
import { planTiles, shiftPlan } from '../tiling/plan.js';
import { arrayVolume } from '../volumes/array-volume.js';
import { type Progress, runBlockLoop } from './block-loop.js';
import { LocalBlockSource } from './block-source.js';
import { DoneLog } from './done-log.js';

export interface PredictArrayOptions {
  readonly backend: InferenceBackend;
  readonly geometry: ModelGeometry;
  /** Bytes for all blocks in flight together. */
  readonly memoryBudgetBytes: number;
  readonly activationFactor?: number;
  readonly blockInput?: readonly number[];
  /** Default 'zero'. */
  readonly padding?: PadMode;
  /**
   * 'same' (default): an output of the input's size, the context past the input padded.
   * 'valid': only voxels whose whole context lies in the input (input − 2·halo per axis), as one
   * model pass over the whole input would give; only that is computed, nothing is padded.
   */
  readonly extent?: 'same' | 'valid';
  /** Default: identity. Percentiles (scale_range) are taken over the whole array. */
  readonly normalization?: Normalization;
  readonly maxInFlight?: number;
  /**
   * Write the output here (float32, exactly C_out × output voxels) instead of a new array, e.g.
   * one item of a preallocated batch: no copy afterwards.
   */
  readonly into?: Float32Array;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/**
 * Tiled inference on an in-memory array ([z,y,x] or [c,z,y,x]) of any size: the same blocks,
 * padding and normalisation as runBlockwise, output float32 [C_out, z, y, x] of the input's size
 * (extent 'same') or of the input minus 2·halo (extent 'valid').
 */
export async function predictArray(input: NdArray, o: PredictArrayOptions): Promise<NdArray<'float32'>> {
  const g = o.geometry;
  const rank = g.minInput.length;
  const lead = input.shape.length - rank;
  if (lead < 0 || lead > 1 || (lead === 1 ? input.shape[0] : 1) !== g.inputChannels) {
    throw new ShapeMismatchError(
      'input array',
      `${g.inputChannels === 1 ? '[z, y, x] or ' : ''}[${g.inputChannels}, z, y, x]`,
      input.shape,
      "give the array the model's input channels as a leading axis",
    );
  }
  const volumeShape = input.shape.slice(lead);
  const valid = o.extent === 'valid';
  const shift = valid ? g.halo : g.halo.map(() => 0);
  const outShape = volumeShape.map((s, i) => s - 2 * (shift[i] as number));
  if (outShape.some((s) => s < 1)) {
    throw new ShapeMismatchError(
      'input array',
      `at least 2·halo + 1 = [${g.halo.map((h) => 2 * h + 1)}] per axis for extent 'valid'`,
      input.shape,
      "send a larger array, or use extent 'same' (padded)",
    );
  }
  const maxInFlight = o.maxInFlight ?? 2;
  // 'valid' plans over the output region and reads its context from the array at +halo.
  const plan = shiftPlan(
    planTiles(outShape, g, {
      memoryBudgetBytes: o.memoryBudgetBytes / maxInFlight,
      activationFactor: o.activationFactor,
      blockInput: o.blockInput,
    }),
    shift,
  );
  const volume = arrayVolume(input);
  const norm = await resolveNormalization(
    o.normalization ?? { kind: 'scale_linear', gain: 1, offset: 0 },
    volume,
    {
      spatialAxes: rank,
      signal: o.signal,
    },
  );
  const out = ndarray('float32', [g.outputChannels, ...outShape], o.into);
  const outStrides = stridesOf(out.shape);
  await runBlockLoop({
    backend: o.backend,
    geometry: g,
    plan,
    source: new LocalBlockSource(plan.blockCount, DoneLog.memory(plan.blockCount)),
    input: volume,
    padding: o.padding ?? 'zero',
    norm,
    maxInFlight,
    signal: o.signal,
    onProgress: o.onProgress,
    what: 'predictArray',
    outputDtype: 'float32',
    sink: async (block, part) => {
      const at = block.write.start.map((v, i) => v - (shift[i] as number));
      copyInto(out.data, outStrides, part, at);
    },
  });
  return out;
}

/** Copies `part` ([C, ...]) into `dst` at spatial origin `start`. */
function copyInto(dst: Float32Array, strides: number[], part: NdArray, start: readonly number[]): void {
  const shape = part.shape;
  const src = part.data as Float32Array;
  const last = shape.length - 1;
  const len = shape[last] as number;
  let k = 0;
  const rec = (axis: number, base: number) => {
    const off = axis === 0 ? 0 : (start[axis - 1] as number);
    const st = strides[axis] as number;
    if (axis === last) {
      dst.set(src.subarray(k, k + len), base + off * st);
      k += len;
      return;
    }
    for (let i = 0; i < (shape[axis] as number); i++) rec(axis + 1, base + (off + i) * st);
  };
  rec(0, 0);
}
