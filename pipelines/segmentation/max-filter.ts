/**
 * scipy.ndimage.maximum_filter(values, size=k): the maximum over a k³ box. scipy's window covers
 * [i − ⌊k/2⌋, i − ⌊k/2⌋ + k − 1]; its default 'reflect' border only repeats values already inside
 * the clipped window, so clipping the window at the border gives the same result.
 */
import type { Grid } from '../grid.js';

export function maximumFilter(values: Grid<Float32Array>, size: number): Float32Array {
  const [, ny, nx] = values.shape;
  let src = Float32Array.from(values.data);
  let dst = new Float32Array(src.length);
  const before = Math.floor(size / 2);
  const after = size - before - 1;
  const strides = [ny * nx, nx, 1] as const;
  for (let axis = 0; axis < 3; axis++) {
    const len = values.shape[axis] as number;
    const stride = strides[axis as 0 | 1 | 2];
    for (let i = 0; i < src.length; i++) {
      const c = Math.floor(i / stride) % len;
      const lo = Math.max(0, c - before);
      const hi = Math.min(len - 1, c + after);
      const base = i - c * stride;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = lo; k <= hi; k++) {
        const v = src[base + k * stride] as number;
        if (v > m) m = v;
      }
      dst[i] = m;
    }
    [src, dst] = [dst, src];
  }
  return src;
}
