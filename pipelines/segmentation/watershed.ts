/**
 * Seeded watershed, skimage.segmentation.watershed(image, markers) semantics (0.26) with face
 * connectivity, no mask and no compactness: a priority flood from the markers (pushed in raster
 * order with their own value) where a voxel takes its label when it is pushed, with priority
 * max(own value, value of the voxel that reached it) and ties broken by push order; neighbours
 * are visited −z, −y, −x, +x, +y, +z. As in skimage, the volume is padded by one voxel (here
 * marked −1, "taken") so the inner loop needs no bounds checks.
 */
import type { Grid } from '../grid.js';
import { floodHeap, popFlood, pushFlood } from './flood-heap.js';

/** Labels every voxel connected to a marker; `markers`: 0 = unlabelled, else the label. */
export function watershed(image: Grid<ArrayLike<number>>, markers: Int32Array): Int32Array {
  const [nz, ny, nx] = image.shape;
  const [pz, py, px] = [nz + 2, ny + 2, nx + 2];
  const plane = py * px;
  const out = new Int32Array(pz * plane).fill(-1);
  const value = new Float64Array(pz * plane);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) {
      const row = ((z + 1) * py + (y + 1)) * px + 1;
      for (let x = 0; x < nx; x++, i++) {
        out[row + x] = markers[i] as number;
        value[row + x] = image.data[i] as number;
      }
    }
  const heap = floodHeap(nz * ny * nx); // every voxel is pushed at most once
  for (let i = 0; i < out.length; i++) if ((out[i] as number) > 0) pushFlood(heap, value[i] as number, 0, i);
  const steps = Int32Array.from([-plane, -px, -1, 1, px, plane]);
  let age = 1;
  while (heap.size > 0) {
    const i = popFlood(heap);
    const label = out[i] as number;
    const floor = heap.popped;
    for (let k = 0; k < 6; k++) {
      const j = i + (steps[k] as number);
      if (out[j] !== 0) continue;
      age++;
      out[j] = label;
      pushFlood(heap, Math.max(value[j] as number, floor), age, j);
    }
  }
  const result = new Int32Array(nz * ny * nx);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) {
      const row = ((z + 1) * py + (y + 1)) * px + 1;
      for (let x = 0; x < nx; x++, i++) result[i] = out[row + x] as number;
    }
  return result;
}
