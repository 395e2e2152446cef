/**
 * Affinities → segmentation, as emzoo.evaluate.watershed.segment_affinities: fragments, then
 * (unless `threshold` is null) mean-affinity agglomeration, then (with `fill`) the boundary band
 * given to the nearest segment. Steps report through `onStep` so a CLI can show progress.
 */

import type { Affinities } from './affinities.js';
import { agglomerateMean } from './agglomerate-mean.js';
import { fillBackground } from './fill-background.js';
import { type Fragments, fragmentsFromAffinities } from './fragments-from-affinities.js';

export interface SegmentOptions {
  /** Merge threshold on the mean affinity; null = fragments only. Default 0.5. */
  readonly threshold?: number | null;
  /** Max-filter size for seeds (voxels). Default 10. */
  readonly minSeedDistance?: number;
  /** Give band voxels the id of the nearest segment. Default true. */
  readonly fill?: boolean;
  readonly onStep?: (step: 'fragments' | 'agglomerate' | 'fill', detail: string) => void;
}

export function segmentAffinities(affs: Affinities, options: SegmentOptions = {}): Fragments {
  const { threshold = 0.5, minSeedDistance = 10, fill = true, onStep } = options;
  if (!Number.isInteger(minSeedDistance) || minSeedDistance < 1) {
    throw new TypeError(`'minSeedDistance' must be a positive integer, got ${minSeedDistance}`);
  }
  let seg = fragmentsFromAffinities(affs, minSeedDistance);
  onStep?.('fragments', `${seg.count} fragments`);
  if (threshold !== null) {
    seg = agglomerateMean(affs, seg, threshold);
    onStep?.('agglomerate', `merged at mean affinity ≥ ${threshold}`);
  }
  if (fill) {
    seg = fillBackground(seg);
    onStep?.('fill', 'band filled from the nearest segment');
  }
  return seg;
}
