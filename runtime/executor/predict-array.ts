import type { InferenceBackend } from '../backend/types.js';
import { ShapeMismatchError } from '../errors.js';
import { type NdArray, ndarray, stridesOf } from '../tensors/ndarray.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import { type Normalization, resolveNormalization } from '../tiling/normalize.js';
import type { PadMode } from '../tiling/padding.js';
import { planTiles } from '../tiling/plan.js';
import { arrayVolume } from '../volumes/array-volume.js';
import { type Progress, runBlockLoop } from './block-loop.js';
import { blockToOutput } from './block-output.js';
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
  /** Default: identity. Percentiles (scale_range) are taken over the whole array. */
  readonly normalization?: Normalization;
  readonly maxInFlight?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/**
 * Tiled inference on an in-memory array ([z,y,x] or [c,z,y,x]) of any size: the same blocks,
 * padding and normalisation as runBlockwise, output float32 [C_out, z, y, x] of the input's size.
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
  const maxInFlight = o.maxInFlight ?? 2;
  const plan = planTiles(volumeShape, g, {
    memoryBudgetBytes: o.memoryBudgetBytes / maxInFlight,
    activationFactor: o.activationFactor,
    blockInput: o.blockInput,
  });
  const volume = arrayVolume(input);
  const norm = await resolveNormalization(
    o.normalization ?? { kind: 'scale_linear', gain: 1, offset: 0 },
    volume,
    {
      spatialAxes: rank,
      signal: o.signal,
    },
  );
  const out = ndarray('float32', [g.outputChannels, ...volumeShape]);
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
    sink: async (block, y) => {
      const part = blockToOutput(y, block.output, block.write, 'float32');
      copyInto(out.data, outStrides, part, block.write.start);
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
