import { cropConvert, type OutputShaping } from '../tensors/crop-convert.js';
import type { NdArray } from '../tensors/ndarray.js';
import type { OutputDType } from '../volumes/create-volume.js';
import type { Region } from '../volumes/region.js';

/** The window of a block's output region that its write region keeps, in output dtype. */
export function outputShaping(
  output: Region,
  write: Region,
  dtype: Extract<OutputDType, 'float32' | 'uint8'>,
): OutputShaping & { readonly dtype: 'float32' | 'uint8' } {
  return {
    start: write.start.map((s, a) => s - (output.start[a] as number)),
    shape: write.start.map((s, a) => (write.stop[a] as number) - s),
    dtype,
  };
}

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
  if (out.shape.length !== 1 + write.start.length)
    throw new TypeError(`output rank ${out.shape.length} != 1 + ${write.start.length}`);
  return cropConvert(out, outputShaping(output, write, dtype));
}
