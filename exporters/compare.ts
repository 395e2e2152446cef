/** Element-wise comparison of two float32 tensors: shape equality, max abs error, mismatch count. */
import type { Float32Nd } from './npy.js';

export interface Comparison {
  readonly sameShape: boolean;
  readonly maxAbsError: number;
  readonly mismatches: number; // elements with |a-e| > atol
}

export function compareTensors(actual: Float32Nd, expected: Float32Nd, atol: number): Comparison {
  const sameShape =
    actual.shape.length === expected.shape.length && actual.shape.every((s, i) => s === expected.shape[i]);
  if (!sameShape)
    return { sameShape, maxAbsError: Number.POSITIVE_INFINITY, mismatches: expected.data.length };
  let max = 0;
  let mismatches = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs((actual.data[i] as number) - (expected.data[i] as number));
    // NaN compares false everywhere: count it as a mismatch explicitly.
    if (!(d <= atol)) mismatches++;
    if (!(d <= max)) max = d;
  }
  return { sameShape, maxAbsError: max, mismatches };
}
