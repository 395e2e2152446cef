/**
 * Soft mask → microtubule candidates, Micron's in-graph NMS (originals §5.1, "max_detection"):
 * block max-pool with window = stride = `window` (TF 'SAME': blocks start at −⌊pad/2⌋), maxima =
 * (value = its block's max) ∧ (value > threshold); then "double suppression": a [1,3,3]-style
 * max-pool (stride 1, SAME; 3 on every axis whose window ≠ 1) over maxima + soft mask keeps the
 * voxels equal to their local max and > 1 (one candidate where two blocks' maxima touch).
 */
import type { Grid, Shape3 } from '../grid.js';

export interface NmsOptions {
  /** (z, y, x) voxels; Micron: [1, 10, 10]. */
  readonly window?: readonly [number, number, number];
  /** Micron: 0.5. */
  readonly threshold?: number;
}

/** Flat indices of the candidates, in raster order. */
export function nmsCandidates(soft: Grid<ArrayLike<number>>, options: NmsOptions = {}): number[] {
  const { window = [1, 10, 10], threshold = 0.5 } = options;
  const shape = soft.shape;
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const v = soft.data;
  // block of every voxel along each axis: SAME padding puts ⌊pad/2⌋ before the first block
  const blockOf = shape.map((len, a) => {
    const k = window[a] as number;
    const pad = Math.max(Math.ceil(len / k) * k - len, 0);
    const before = Math.floor(pad / 2);
    return Int32Array.from({ length: len }, (_, i) => Math.floor((i + before) / k));
  }) as [Int32Array, Int32Array, Int32Array];
  const nb = blockOf.map((b) => (b[b.length - 1] as number) + 1) as unknown as Shape3;
  const blockMax = new Float64Array(nb[0] * nb[1] * nb[2]).fill(Number.NEGATIVE_INFINITY);
  const blockAt = (z: number, y: number, x: number) =>
    ((blockOf[0][z] as number) * nb[1] + (blockOf[1][y] as number)) * nb[2] + (blockOf[2][x] as number);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const b = blockAt(z, y, x);
        if ((v[i] as number) > (blockMax[b] as number)) blockMax[b] = v[i] as number;
      }
  const boosted = new Float64Array(n);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const value = v[i] as number;
        const isMax = value === blockMax[blockAt(z, y, x)] && value > threshold ? 1 : 0;
        boosted[i] = isMax + value;
      }
  const reach = window.map((k) => (k === 1 ? 0 : 1));
  const out: number[] = [];
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const b = boosted[i] as number;
        if (b <= 1) continue;
        let local = Number.NEGATIVE_INFINITY;
        for (let dz = -(reach[0] as number); dz <= (reach[0] as number); dz++)
          for (let dy = -(reach[1] as number); dy <= (reach[1] as number); dy++)
            for (let dx = -(reach[2] as number); dx <= (reach[2] as number); dx++) {
              const zz = z + dz;
              const yy = y + dy;
              const xx = x + dx;
              if (zz < 0 || yy < 0 || xx < 0 || zz >= nz || yy >= ny || xx >= nx) continue;
              local = Math.max(local, boosted[(zz * ny + yy) * nx + xx] as number);
            }
        if (b === local) out.push(i);
      }
  return out;
}
