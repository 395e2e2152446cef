/**
 * Segmentation vs ground truth: VOI split/merge (bits) and adapted Rand error, as
 * emzoo.evaluate.segmentation_metrics (skimage conventions) from one contingency table.
 * Voxels whose ground-truth label is in `ignoreGt` (default [0]) are left out.
 */
import { PipelineInputError } from '../errors.js';

export type Labels = ArrayLike<number> | BigUint64Array | BigInt64Array;

export interface SegmentationScores {
  readonly voi_split: number;
  readonly voi_merge: number;
  readonly voi: number;
  readonly adapted_rand_error: number;
  readonly rand_precision: number;
  readonly rand_recall: number;
}

interface Table {
  readonly counts: number[];
  readonly gtSizes: number[];
  readonly segSizes: number[];
  readonly total: number;
}

function compact(ids: Map<number | bigint, number>, label: number | bigint): number {
  let k = ids.get(label);
  if (k === undefined) {
    k = ids.size;
    ids.set(label, k);
  }
  return k;
}

export function contingency(gt: Labels, seg: Labels, ignoreGt: readonly number[] = [0]): Table {
  if (gt.length !== seg.length) {
    throw new PipelineInputError(
      'segmentation metrics',
      `ground truth (${gt.length} voxels) and segmentation (${seg.length}) differ in size`,
      'compare label volumes over the same region',
    );
  }
  const ignore = new Set<number | bigint>([...ignoreGt, ...ignoreGt.map((v) => BigInt(v))]);
  const gtIds = new Map<number | bigint, number>();
  const segIds = new Map<number | bigint, number>();
  const gi: number[] = [];
  const si: number[] = [];
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i] as number | bigint;
    if (ignore.has(g)) continue;
    gi.push(compact(gtIds, g));
    si.push(compact(segIds, seg[i] as number | bigint));
  }
  const width = segIds.size;
  const cells = new Map<number, number>();
  const gtSizes = new Array<number>(gtIds.size).fill(0);
  const segSizes = new Array<number>(segIds.size).fill(0);
  for (let k = 0; k < gi.length; k++) {
    const g = gi[k] as number;
    const s = si[k] as number;
    const key = g * width + s;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    gtSizes[g] = (gtSizes[g] as number) + 1;
    segSizes[s] = (segSizes[s] as number) + 1;
  }
  return { counts: [...cells.values()], gtSizes, segSizes, total: gi.length };
}

const plogpSum = (xs: readonly number[], total: number): number => {
  let s = 0;
  for (const x of xs) {
    if (x <= 0) continue;
    const p = x / total;
    s += p * Math.log2(p);
  }
  return s;
};

/** (split, merge) = (H(seg | gt), H(gt | seg)) in bits. */
export function voi(gt: Labels, seg: Labels, ignoreGt: readonly number[] = [0]): [number, number] {
  const t = contingency(gt, seg, ignoreGt);
  if (t.total === 0) return [0, 0];
  const hJoint = -plogpSum(t.counts, t.total);
  const hGt = -plogpSum(t.gtSizes, t.total);
  const hSeg = -plogpSum(t.segSizes, t.total);
  return [Math.max(hJoint - hGt, 0), Math.max(hJoint - hSeg, 0)];
}

export function adaptedRand(
  gt: Labels,
  seg: Labels,
  ignoreGt: readonly number[] = [0],
): { error: number; precision: number; recall: number } {
  const t = contingency(gt, seg, ignoreGt);
  const sq = (xs: readonly number[]) => xs.reduce((acc, x) => acc + x * x, 0);
  // pairs of distinct voxels: Σ x² − Σ x
  const both = sq(t.counts) - t.total;
  const sumA = sq(t.gtSizes) - t.total;
  const sumB = sq(t.segSizes) - t.total;
  const denominator = 0.5 * sumA + 0.5 * sumB;
  if (denominator === 0) return { error: 0, precision: 1, recall: 1 };
  return {
    error: 1 - both / denominator,
    precision: sumA ? both / sumA : 1,
    recall: sumB ? both / sumB : 1,
  };
}

export function segmentationScores(
  gt: Labels,
  seg: Labels,
  ignoreGt: readonly number[] = [0],
): SegmentationScores {
  const [split, merge] = voi(gt, seg, ignoreGt);
  const rand = adaptedRand(gt, seg, ignoreGt);
  return {
    voi_split: split,
    voi_merge: merge,
    voi: split + merge,
    adapted_rand_error: rand.error,
    rand_precision: rand.precision,
    rand_recall: rand.recall,
  };
}
