/**
 * Every 0 voxel takes the id of its nearest nonzero voxel, as emzoo.evaluate.watershed.
 * fill_background (scipy's EDT indices, with scipy's tie-breaking; see nearest-feature.ts).
 */
import type { Grid } from '../grid.js';
import { nearestZeroIndex } from './nearest-feature.js';

export function fillBackground<T extends Grid<Int32Array>>(seg: T): T {
  const empty = new Uint8Array(seg.data.length);
  let anyEmpty = false;
  let allEmpty = true;
  for (let i = 0; i < empty.length; i++) {
    if (seg.data[i] === 0) {
      empty[i] = 1;
      anyEmpty = true;
    } else allEmpty = false;
  }
  if (!anyEmpty || allEmpty) return seg;
  const nearest = nearestZeroIndex({ shape: seg.shape, data: empty });
  const data = new Int32Array(seg.data.length);
  for (let i = 0; i < data.length; i++) data[i] = seg.data[nearest[i] as number] as number;
  return { ...seg, data };
}
