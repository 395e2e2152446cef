/**
 * Micron soft mask vs rasterised tracks, as emzoo.evaluate.micron.score_soft_mask: precision =
 * predicted voxels (soft > threshold) within `toleranceNm` of a track voxel; recall = track voxels
 * within `toleranceNm` of a predicted voxel (distances: exact EDT with the voxel size).
 */
import { PipelineInputError } from '../errors.js';
import { checkGrid, type Shape3 } from '../grid.js';
import { squaredEdt } from '../segmentation/edt.js';
import { prf } from '../synful/match-partners.js';

export interface SoftMaskScores {
  readonly soft_mask_precision: number;
  readonly soft_mask_recall: number;
  readonly soft_mask_f1: number;
  readonly predicted_voxels: number;
  readonly track_voxels: number;
}

/** Squared distance (nm²) of every voxel to the nearest voxel of `mask`; Infinity if it is empty. */
function squaredDistanceTo(
  mask: Uint8Array,
  shape: Shape3,
  vs: readonly [number, number, number],
): Float64Array {
  const outside = Uint8Array.from(mask, (m) => (m ? 0 : 1));
  return squaredEdt({ shape, data: outside }, vs);
}

export function scoreSoftMask(
  soft: { shape: readonly number[]; data: ArrayLike<number> },
  tracks: ArrayLike<number>,
  options: { voxelSize: readonly [number, number, number]; threshold: number; toleranceNm: number },
): SoftMaskScores {
  const shape = checkGrid('soft mask', soft.shape, soft.data.length);
  if (tracks.length !== soft.data.length) {
    throw new PipelineInputError(
      'tracks',
      `hold ${tracks.length} voxels, the soft mask ${soft.data.length}`,
      'rasterise the tracks over the same region',
    );
  }
  const predicted = Uint8Array.from(soft.data, (v) => (v > options.threshold ? 1 : 0));
  const onTrack = Uint8Array.from(tracks, (v) => (v ? 1 : 0));
  const tol = options.toleranceNm;
  const toTrack = squaredDistanceTo(onTrack, shape, options.voxelSize);
  const toPred = squaredDistanceTo(predicted, shape, options.voxelSize);
  let nPred = 0;
  let nTrack = 0;
  let tpPred = 0;
  let found = 0;
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i]) {
      nPred++;
      if (Math.sqrt(toTrack[i] as number) <= tol) tpPred++;
    }
    if (onTrack[i]) {
      nTrack++;
      if (Math.sqrt(toPred[i] as number) <= tol) found++;
    }
  }
  // precision counts predicted voxels, recall track voxels
  const precision = prf(tpPred, nPred - tpPred, 0).precision;
  const recall = prf(found, 0, nTrack - found).recall;
  return {
    soft_mask_precision: precision,
    soft_mask_recall: recall,
    soft_mask_f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    predicted_voxels: nPred,
    track_voxels: nTrack,
  };
}
