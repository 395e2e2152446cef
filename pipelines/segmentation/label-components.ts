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
  for (let seed = 0; seed < n; seed++) {
    if (!mask.data[seed] || labels[seed] !== 0) continue;
    count++;
    labels[seed] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const i = queue[head++] as number;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / plane);
      const visit = (j: number) => {
        if (mask.data[j] && labels[j] === 0) {
          labels[j] = count;
          queue[tail++] = j;
        }
      };
      if (z > 0) visit(i - plane);
      if (z < nz - 1) visit(i + plane);
      if (y > 0) visit(i - nx);
      if (y < ny - 1) visit(i + nx);
      if (x > 0) visit(i - 1);
      if (x < nx - 1) visit(i + 1);
    }
  }
  return { labels, count };
}
