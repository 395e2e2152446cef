/**
 * Seeded watershed, skimage.segmentation.watershed(image, markers) semantics (0.26) with face
 * connectivity, no mask and no compactness: a priority flood from the markers (pushed in raster
 * order with their own value) where a voxel takes its label when it is pushed, with priority
 * max(own value, value of the voxel that reached it) and ties broken by push order; neighbours
 * are visited −z, −y, −x, +x, +y, +z.
 */
import type { Grid } from '../grid.js';
import { FloodHeap } from './flood-heap.js';

/** Labels every voxel connected to a marker; `markers`: 0 = unlabelled, else the label. */
export function watershed(image: Grid<ArrayLike<number>>, markers: Int32Array): Int32Array {
  const [nz, ny, nx] = image.shape;
  const plane = ny * nx;
  const out = Int32Array.from(markers);
  const heap = new FloodHeap(Math.max(1024, Math.min(out.length, 1 << 20)));
  for (let i = 0; i < out.length; i++) if (out[i] !== 0) heap.push(image.data[i] as number, 0, i);
  let age = 1;
  const visit = (j: number, label: number, floor: number) => {
    if (out[j] !== 0) return;
    age++;
    out[j] = label;
    const v = image.data[j] as number;
    heap.push(Math.max(v, floor), age, j);
  };
  while (heap.size > 0) {
    const i = heap.pop();
    const label = out[i] as number;
    const floor = heap.poppedValue;
    const x = i % nx;
    const y = Math.floor(i / nx) % ny;
    const z = Math.floor(i / plane);
    if (z > 0) visit(i - plane, label, floor);
    if (y > 0) visit(i - nx, label, floor);
    if (x > 0) visit(i - 1, label, floor);
    if (x < nx - 1) visit(i + 1, label, floor);
    if (y < ny - 1) visit(i + nx, label, floor);
    if (z < nz - 1) visit(i + plane, label, floor);
  }
  return out;
}
