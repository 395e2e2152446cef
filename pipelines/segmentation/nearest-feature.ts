/**
 * Index of the nearest zero voxel for every voxel: scipy.ndimage.distance_transform_edt(mask,
 * return_indices=True). A port of scipy's separable Voronoi feature transform (ni_morphology.c,
 * `_VoronoiFT`, axis z, then y, then x) with its exact tie-breaking: where two zero voxels are
 * equally near, the one scipy picks is picked here too, so a filled segmentation matches voxel for
 * voxel. (Felzenszwalb–Huttenlocher, in edt.ts, gives the same distances but breaks ties otherwise.)
 */
import type { Grid } from '../grid.js';

/** Flat index of the nearest zero voxel of `mask`, or −1 when the volume has no zero voxel. */
export function nearestZeroIndex(mask: Grid<ArrayLike<number>>): Int32Array {
  const [nz, ny, nx] = mask.shape;
  const n = nz * ny * nx;
  // feature coordinates (z, y, x) interleaved per voxel; z = −1 marks "no site yet"
  const feat = new Int32Array(3 * n);
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (mask.data[i]) feat[3 * i] = -1;
        else {
          feat[3 * i] = z;
          feat[3 * i + 1] = y;
          feat[3 * i + 2] = x;
        }
      }
    }
  }
  const longest = Math.max(nz, ny, nx);
  const work = { f: new Int32Array(longest * 3), g: new Int32Array(longest) };
  const coor = [0, 0, 0];
  // axis 0: lines along z for every (y, x)
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      coor[1] = y;
      coor[2] = x;
      voronoiLine(feat, y * nx + x, ny * nx, nz, 0, coor, work);
    }
  }
  for (let z = 0; z < nz; z++) {
    for (let x = 0; x < nx; x++) {
      coor[0] = z;
      coor[2] = x;
      voronoiLine(feat, z * ny * nx + x, nx, ny, 1, coor, work);
    }
  }
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      coor[0] = z;
      coor[1] = y;
      voronoiLine(feat, (z * ny + y) * nx, 1, nx, 2, coor, work);
    }
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const fz = feat[3 * i] as number;
    out[i] = fz < 0 ? -1 : (fz * ny + (feat[3 * i + 1] as number)) * nx + (feat[3 * i + 2] as number);
  }
  return out;
}

function voronoiLine(
  feat: Int32Array,
  base: number,
  stride: number,
  len: number,
  d: number,
  coor: readonly number[],
  work: { f: Int32Array; g: Int32Array },
): void {
  const { f, g } = work;
  for (let ii = 0; ii < len; ii++) {
    const at = 3 * (base + ii * stride);
    f[ii * 3] = feat[at] as number;
    f[ii * 3 + 1] = feat[at + 1] as number;
    f[ii * 3 + 2] = feat[at + 2] as number;
  }
  let l = -1;
  for (let ii = 0; ii < len; ii++) {
    if ((f[ii * 3] as number) < 0) continue;
    const fd = f[ii * 3 + d] as number;
    let wR = 0;
    for (let jj = 0; jj < 3; jj++) {
      if (jj === d) continue;
      const tw = (f[ii * 3 + jj] as number) - (coor[jj] as number);
      wR += tw * tw;
    }
    while (l >= 1) {
      const idx1 = g[l] as number;
      const idx2 = g[l - 1] as number;
      const f1 = f[idx1 * 3 + d] as number;
      const a = f1 - (f[idx2 * 3 + d] as number);
      const b = fd - f1;
      let uR = 0;
      let vR = 0;
      for (let jj = 0; jj < 3; jj++) {
        if (jj === d) continue;
        const tu = (f[idx2 * 3 + jj] as number) - (coor[jj] as number);
        const tv = (f[idx1 * 3 + jj] as number) - (coor[jj] as number);
        uR += tu * tu;
        vR += tv * tv;
      }
      const c = a + b;
      if (c * vR - b * uR - a * wR - a * b * c <= 0) break;
      l--;
    }
    l++;
    g[l] = ii;
  }
  const maxl = l;
  if (maxl < 0) return;
  l = 0;
  for (let ii = 0; ii < len; ii++) {
    let delta1 = squaredTo(f, g[l] as number, d, ii, coor);
    while (l < maxl) {
      const delta2 = squaredTo(f, g[l + 1] as number, d, ii, coor);
      if (delta1 <= delta2) break;
      delta1 = delta2;
      l++;
    }
    const src = g[l] as number;
    const at = 3 * (base + ii * stride);
    feat[at] = f[src * 3] as number;
    feat[at + 1] = f[src * 3 + 1] as number;
    feat[at + 2] = f[src * 3 + 2] as number;
  }
}

/** Squared distance from site `idx` to the voxel at `at` on the line (axis d) through `coor`. */
function squaredTo(f: Int32Array, idx: number, d: number, at: number, coor: readonly number[]): number {
  let s = 0;
  for (let jj = 0; jj < 3; jj++) {
    const t = (f[idx * 3 + jj] as number) - (jj === d ? at : (coor[jj] as number));
    s += t * t;
  }
  return s;
}
