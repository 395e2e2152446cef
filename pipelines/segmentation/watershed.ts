/**
 * Seeded watershed, skimage.segmentation.watershed(image, markers) semantics (0.26) with face
 * connectivity, no mask and no compactness: a priority flood from the markers (pushed in raster
 * order with their own value) where a voxel takes its label when it is pushed, with priority
 * max(own value, value of the voxel that reached it) and ties broken by push order; neighbours
 * are visited −z, −y, −x, +x, +y, +z.
 */
import type { Grid } from '../grid.js';
import { floodHeap, popFlood, pushFlood } from './flood-heap.js';

/** Labels every voxel connected to a marker; `markers`: 0 = unlabelled, else the label. */
export function watershed(image: Grid<ArrayLike<number>>, markers: Int32Array): Int32Array {
  const [nz, ny, nx] = image.shape;
  const plane = ny * nx;
  const out = Int32Array.from(markers);
  const heap = floodHeap(out.length); // every voxel is pushed at most once
  for (let i = 0; i < out.length; i++) if (out[i] !== 0) pushFlood(heap, image.data[i] as number, 0, i);
  let age = 1;
  const data = image.data;
  // face neighbours in skimage's order; `ok` says whether the step stays inside the volume
  const steps = [-plane, -nx, -1, 1, nx, plane];
  while (heap.size > 0) {
    const i = popFlood(heap);
    const label = out[i] as number;
    const floor = heap.popped;
    const x = i % nx;
    const y = ((i - x) / nx) % ny;
    const z = (i - x - y * nx) / plane;
    for (let k = 0; k < 6; k++) {
      const ok =
        k === 0
          ? z > 0
          : k === 1
            ? y > 0
            : k === 2
              ? x > 0
              : k === 3
                ? x < nx - 1
                : k === 4
                  ? y < ny - 1
                  : z < nz - 1;
      if (!ok) continue;
      const j = i + (steps[k] as number);
      if (out[j] !== 0) continue;
      age++;
      out[j] = label;
      const v = data[j] as number;
      pushFlood(heap, Math.max(v, floor), age, j);
    }
  }
  return out;
}
