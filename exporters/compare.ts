/** Element-wise comparison of two float32 tensors: shape equality, max abs error, mismatch count. */
import type { Float32Nd } from './npy.js';

/** An element passes when |a − e| ≤ abs + rel·|e| (bioimage.io's rule). */
export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

export interface Comparison {
  readonly sameShape: boolean;
  readonly maxAbsError: number;
  readonly mismatches: number; // elements outside the tolerance
}

/**
 * The rule a bundle recorded at export: atol = max(tolerance_abs, tolerance_scale · max |e|), so
 * outputs in nm get a tolerance in proportion; earlier bundles recorded tolerance_abs only.
 */
export function bundleTolerance(
  roundtrip: { tolerance_abs: number; tolerance_rel?: number; tolerance_scale?: number },
  expected: Float32Nd,
): Tolerance {
  let peak = 0;
  for (const v of expected.data) if (Math.abs(v) > peak) peak = Math.abs(v);
  return {
    abs: Math.max(roundtrip.tolerance_abs, (roundtrip.tolerance_scale ?? 0) * peak),
    rel: roundtrip.tolerance_rel ?? 0,
  };
}

export function compareTensors(actual: Float32Nd, expected: Float32Nd, tol: Tolerance): Comparison {
  const sameShape =
    actual.shape.length === expected.shape.length && actual.shape.every((s, i) => s === expected.shape[i]);
  if (!sameShape)
    return { sameShape, maxAbsError: Number.POSITIVE_INFINITY, mismatches: expected.data.length };
  let max = 0;
  let mismatches = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i] as number;
    const d = Math.abs((actual.data[i] as number) - e);
    // NaN compares false everywhere: count it as a mismatch explicitly.
    if (!(d <= tol.abs + tol.rel * Math.abs(e))) mismatches++;
    if (!(d <= max)) max = d;
  }
  return { sameShape, maxAbsError: max, mismatches };
}
