/**
 * Affinities → fragments, as emzoo.evaluate.watershed.fragments (LSD post-processing, lsd.post
 * watershed_from_affinities): foreground = mean of the nearest-neighbour channels > 0.5; EDT of the
 * foreground; seeds = foreground maxima under a max filter of `minSeedDistance`, labelled by face
 * connectivity, plus one seed at the distance maximum of every seedless foreground component;
 * watershed of (max − distance) from the seeds; fragments masked to the foreground (0 = band).
 */
import type { Grid } from '../grid.js';
import { type Affinities, nearestChannels } from './affinities.js';
import { edtFloat32 } from './edt.js';
import { labelComponents } from './label-components.js';
import { maximumFilter } from './max-filter.js';
import { watershed } from './watershed.js';

export interface Fragments extends Grid<Int32Array> {
  /** Largest id (ids are 1..count, 0 = boundary band). */
  readonly count: number;
}

export function foregroundMask(affs: Affinities): Uint8Array {
  const near = nearestChannels(affs.offsets);
  const n = affs.data.length / affs.offsets.length;
  const fg = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // float32 mean like numpy's affs[near].mean(axis=0) on float32 (pairwise sums of ≤ 8 terms are sequential)
    let s = 0;
    for (const c of near) s = Math.fround(s + (affs.data[c * n + i] as number));
    fg[i] = Math.fround(s / near.length) > 0.5 ? 1 : 0;
  }
  return fg;
}

export function fragmentsFromAffinities(affs: Affinities, minSeedDistance = 10): Fragments {
  const shape = affs.shape;
  const foreground = foregroundMask(affs);
  const n = foreground.length;
  if (foreground.every((v) => v === 1)) {
    // no boundary at all: one fragment (scipy's EDT has no zero voxel to measure from here and
    // returns arbitrary values; the reference ends with one fragment on such volumes too)
    return { shape, data: new Int32Array(n).fill(1), count: 1 };
  }
  const distance = edtFloat32({ shape, data: foreground });
  const filtered = maximumFilter({ shape, data: distance }, minSeedDistance);
  const isSeed = new Uint8Array(n);
  for (let i = 0; i < n; i++) isSeed[i] = foreground[i] && filtered[i] === distance[i] ? 1 : 0;
  const seeds = labelComponents({ shape, data: isSeed });
  const markers = seeds.labels;
  let count = seeds.count;
  // a thin object beside a thick one may have no maximum of its own: seed it at its distance maximum
  const parts = labelComponents({ shape, data: foreground });
  if (parts.count > 0) {
    const seeded = new Uint8Array(parts.count + 1);
    const best = new Int32Array(parts.count + 1).fill(-1);
    for (let i = 0; i < n; i++) {
      const p = parts.labels[i] as number;
      if (p === 0) continue;
      if (markers[i] !== 0) seeded[p] = 1;
      // first voxel in raster order holding the component's maximum (scipy maximum_position)
      const b = best[p] as number;
      if (b < 0 || (distance[i] as number) > (distance[b] as number)) best[p] = i;
    }
    for (let p = 1; p <= parts.count; p++) {
      if (!seeded[p]) markers[best[p] as number] = ++count;
    }
  }
  if (count === 0) return { shape, data: new Int32Array(n), count: 0 };
  let max = 0;
  for (let i = 0; i < n; i++) if ((distance[i] as number) > max) max = distance[i] as number;
  const image = new Float32Array(n);
  for (let i = 0; i < n; i++) image[i] = max - (distance[i] as number);
  const flooded = watershed({ shape, data: image }, markers);
  for (let i = 0; i < n; i++) if (!foreground[i]) flooded[i] = 0;
  return { shape, data: flooded, count };
}
