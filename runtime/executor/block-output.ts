import type { NdArray } from '../tensors/ndarray.js';
import { stridesOf } from '../tensors/ndarray.js';
import type { OutputDType } from '../volumes/create-volume.js';
import type { Region } from '../volumes/region.js';

/**
 * Crops a network output [C, ...output region] to the block's write region and converts it to
 * the output dtype. uint8 stores value·255 rounded and clamped to 0..255, as the original
 * pipelines store affinities and masks.
 */
export function blockToOutput(
  out: NdArray<'float32'>,
  output: Region,
  write: Region,
  dtype: Extract<OutputDType, 'float32' | 'uint8'>,
): NdArray<'float32' | 'uint8'> {
  const channels = out.shape[0] as number;
  const spatial = out.shape.slice(1);
  const shape = write.start.map((s, a) => (write.stop[a] as number) - s);
  const offset = write.start.map((s, a) => s - (output.start[a] as number));
  const srcStrides = stridesOf(out.shape);
  const n = shape.reduce((a, b) => a * b, channels);
  const dst = dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
  const src = out.data;
  if (spatial.length !== shape.length)
    throw new TypeError(`output rank ${out.shape.length} != 1 + ${shape.length}`);
  const last = shape.length - 1;
  const rowLen = shape[last] as number;
  let k = 0;
  const rec = (axis: number, base: number) => {
    const st = srcStrides[axis + 1] as number;
    const from = base + (offset[axis] as number) * st;
    if (axis === last) {
      if (dtype === 'uint8') {
        for (let i = 0; i < rowLen; i++) {
          const v = Math.round((src[from + i] as number) * 255);
          dst[k++] = Math.min(255, Math.max(0, v));
        }
      } else {
        (dst as Float32Array).set(src.subarray(from, from + rowLen), k);
        k += rowLen;
      }
      return;
    }
    for (let i = 0; i < (shape[axis] as number); i++) rec(axis + 1, from + i * st);
  };
  for (let c = 0; c < channels; c++) rec(0, c * (srcStrides[0] as number));
  return { dtype, shape: [channels, ...shape], data: dst } as NdArray<'float32' | 'uint8'>;
}
