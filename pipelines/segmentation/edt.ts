/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): the distance of every
 * nonzero voxel to the nearest zero voxel, as scipy.ndimage.distance_transform_edt(mask, sampling).
 * Separable: one lower envelope of parabolas per line, axis z, then y, then x, so squared
 * distances add up in scipy's order ((z² + y²) + x²) and integer cases are bit-identical.
 */
import { type Grid, lineStarts, type Shape3 } from '../grid.js';

/** Squared distances (float64). `mask`: nonzero = inside. Infinity where the volume has no zero voxel. */
export function squaredEdt(
  mask: Grid<ArrayLike<number>>,
  sampling: readonly [number, number, number] = [1, 1, 1],
): Float64Array {
  const [nz, ny, nx] = mask.shape;
  const n = nz * ny * nx;
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = mask.data[i] ? Number.POSITIVE_INFINITY : 0;
  const longest = Math.max(nz, ny, nx);
  const line = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const strides: Shape3 = [ny * nx, nx, 1];
  for (let axis = 0; axis < 3; axis++) {
    const len = mask.shape[axis] as number;
    const stride = strides[axis] as number;
    const s = sampling[axis] as number;
    // every line along `axis`: iterate the starts (all voxels whose `axis` coordinate is 0)
    for (const start of lineStarts(mask.shape, axis)) {
      for (let q = 0; q < len; q++) line[q] = f[start + q * stride] as number;
      parabolaEnvelope(line, len, s, out, v, z);
      for (let q = 0; q < len; q++) f[start + q * stride] = out[q] as number;
    }
  }
  return f;
}

/** Distances as float32 (what scipy's result becomes after `.astype(np.float32)`). */
export function edtFloat32(
  mask: Grid<ArrayLike<number>>,
  sampling: readonly [number, number, number] = [1, 1, 1],
): Float32Array {
  const sq = squaredEdt(mask, sampling);
  const d = new Float32Array(sq.length);
  for (let i = 0; i < sq.length; i++) d[i] = Math.sqrt(sq[i] as number);
  return d;
}

/** out[q] = min_p ((q − p)·s)² + f[p] over the finite f[p]; Infinity if none is finite. */
function parabolaEnvelope(
  f: Float64Array,
  len: number,
  s: number,
  out: Float64Array,
  v: Int32Array,
  z: Float64Array,
): void {
  const s2 = s * s;
  let k = -1;
  for (let q = 0; q < len; q++) {
    const fq = f[q] as number;
    if (fq === Number.POSITIVE_INFINITY) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = Number.NEGATIVE_INFINITY;
      z[1] = Number.POSITIVE_INFINITY;
      continue;
    }
    let sx: number;
    for (;;) {
      const p = v[k] as number;
      sx = (fq + s2 * q * q - ((f[p] as number) + s2 * p * p)) / (2 * s2 * (q - p));
      if (sx <= (z[k] as number)) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = sx;
    z[k + 1] = Number.POSITIVE_INFINITY;
  }
  if (k < 0) {
    out.fill(Number.POSITIVE_INFINITY, 0, len);
    return;
  }
  k = 0;
  for (let q = 0; q < len; q++) {
    while ((z[k + 1] as number) < q) k++;
    const p = v[k] as number;
    const t = (q - p) * s;
    out[q] = t * t + (f[p] as number);
  }
}
