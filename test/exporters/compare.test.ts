import { describe, expect, it } from 'vitest';
import { bundleTolerance, compareTensors } from '../../exporters/compare.js';
import { float32 } from '../../exporters/npy.js';

// Synful-like output: a probability and partner vectors in nm that cross zero
const expected = float32([1, 2, 3], new Float32Array([0.2, 0.9, 0.5, -150, 0, 120]));
const shifted = (i: number, by: number) => {
  const d = Float32Array.from(expected.data);
  d[i] = (d[i] as number) + by;
  return float32(expected.shape, d);
};

describe('reproduce tolerance', () => {
  const current = { tolerance_abs: 1e-4, tolerance_rel: 1e-3, tolerance_scale: 1e-5 };

  it('grows atol with the output magnitude, as the export recorded it', () => {
    const tol = bundleTolerance(current, expected);
    expect(tol.abs).toBeCloseTo(1.5e-3, 9);
    expect(tol.rel).toBe(1e-3);
    // float32 rounding of an nm output at its zero crossing passes; a real error does not
    expect(compareTensors(shifted(4, 1.8e-4), expected, tol).mismatches).toBe(0);
    const bad = compareTensors(shifted(4, 0.05), expected, tol);
    expect(bad.mismatches).toBe(1);
    expect(bad.maxAbsError).toBeCloseTo(0.05, 6);
  });

  it('allows rtol·|e| on top of atol, element by element', () => {
    const tol = bundleTolerance(current, expected);
    expect(compareTensors(shifted(3, 0.1), expected, tol).mismatches).toBe(0); // ≤ 1.5e-3 + 0.15
    expect(compareTensors(shifted(3, 0.2), expected, tol).mismatches).toBe(1);
    expect(compareTensors(shifted(1, 3e-3), expected, tol).mismatches).toBe(1); // > 1.5e-3 + 9e-4
  });

  it('keeps the absolute rule of bundles written before rtol and scale', () => {
    const tol = bundleTolerance({ tolerance_abs: 1e-4 }, expected);
    expect(tol).toEqual({ abs: 1e-4, rel: 0 });
    expect(compareTensors(shifted(4, 1.8e-4), expected, tol).mismatches).toBe(1);
  });

  it('counts NaN and a shape change as mismatches', () => {
    const tol = bundleTolerance(current, expected);
    expect(compareTensors(shifted(0, Number.NaN), expected, tol).mismatches).toBe(1);
    const other = float32([1, 3, 2], expected.data);
    expect(compareTensors(other, expected, tol)).toMatchObject({ sameShape: false, mismatches: 6 });
  });
});
