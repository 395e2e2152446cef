/**
 * Face-connected components of the nonzero voxels, numbered 1..n in raster order of each
 * component's first voxel: what scipy.ndimage.label(mask) returns with its default structure.
 */
import type { Grid } from '../grid.js';

export interface Components {
  readonly labels: Int32Array;
  readonly count: number;
}

export function labelComponents(mask: Grid<ArrayLike<number>>): Components {
  const [nz, ny, nx] = mask.shape;
  const n = nz * ny * nx;
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const plane = ny * nx;
  let count = 0;
  const m = mask.data;
  for (let seed = 0; seed < n; seed++) {
    if (!m[seed] || labels[seed] !== 0) continue;
    count++;
    labels[seed] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const i = queue[head++] as number;
      const x = i % nx;
      const y = ((i - x) / nx) % ny;
      const z = (i - x - y * nx) / plane;
      // face neighbours, inlined (this loop dominates labelling time)
      let j = i - plane;
      if (z > 0 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
      j = i + plane;
      if (z < nz - 1 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
      j = i - nx;
      if (y > 0 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
      j = i + nx;
      if (y < ny - 1 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
      j = i - 1;
      if (x > 0 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
      j = i + 1;
      if (x < nx - 1 && m[j] && labels[j] === 0) {
        labels[j] = count;
        queue[tail++] = j;
      }
    }
  }
  return { labels, count };
}
