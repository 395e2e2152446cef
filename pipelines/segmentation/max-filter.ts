/**
 * scipy.ndimage.maximum_filter(values, size=k): the maximum over a k³ box. scipy's window covers
 * [i − ⌊k/2⌋, i − ⌊k/2⌋ + k − 1]; its default 'reflect' border only repeats values already inside
 * the clipped window, so clipping the window at the border gives the same result.
 */
import { type Grid, lineStarts } from '../grid.js';

export function maximumFilter(values: Grid<Float32Array>, size: number): Float32Array {
  const [, ny, nx] = values.shape;
  let src = Float32Array.from(values.data);
  let dst = new Float32Array(src.length);
  const before = Math.floor(size / 2);
  const after = size - before - 1;
  const strides = [ny * nx, nx, 1] as const;
  const line = new Float32Array(Math.max(...values.shape));
  for (let axis = 0; axis < 3; axis++) {
    const len = values.shape[axis] as number;
    const stride = strides[axis as 0 | 1 | 2];
    for (const base of lineStarts(values.shape, axis)) {
      for (let c = 0; c < len; c++) line[c] = src[base + c * stride] as number;
      for (let c = 0; c < len; c++) {
        const hi = Math.min(len - 1, c + after);
        let m = Number.NEGATIVE_INFINITY;
        for (let k = Math.max(0, c - before); k <= hi; k++) {
          const v = line[k] as number;
          if (v > m) m = v;
        }
        dst[base + c * stride] = m;
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}
