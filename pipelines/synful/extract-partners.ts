/**
 * Synful partner extraction (originals §3.5, mode 'cc'), as emzoo.evaluate.synful_extract:
 * post-synaptic probability > threshold → face-connected components (in scipy's label order) →
 * location = the component's most interior voxel (argmax of the EDT of the component alone, with
 * the voxel size, first in raster order on ties) → partner = location + predicted vector there.
 * Score = sum of the probabilities over the component. Locations in nm: offset + index · voxel size.
 */
import { PipelineInputError } from '../errors.js';
import { checkGrid, type Shape3 } from '../grid.js';
import { squaredEdt } from '../segmentation/edt.js';
import { labelComponents } from '../segmentation/label-components.js';

export type Vec3 = [number, number, number];

export interface Partner {
  /** Post-synaptic location (nm, z y x). */
  readonly post: Vec3;
  /** Pre-synaptic location = post + predicted vector (nm). */
  readonly pre: Vec3;
  readonly score: number;
  /** Voxels in the component. */
  readonly size: number;
}

export interface ExtractOptions {
  readonly voxelSize: readonly [number, number, number];
  readonly offset?: readonly [number, number, number];
  readonly threshold?: number;
  readonly minScore?: number;
}

/**
 * `probability`: (z, y, x) in [0, 1]; `vectors`: (3, z, y, x) in nm, pointing from a post-synaptic
 * voxel to its pre-synaptic partner.
 */
export function extractPartners(
  probability: { shape: readonly number[]; data: ArrayLike<number> },
  vectors: ArrayLike<number>,
  options: ExtractOptions,
): Partner[] {
  const shape = checkGrid('post-synaptic probability', probability.shape, probability.data.length);
  const n = shape[0] * shape[1] * shape[2];
  if (vectors.length !== 3 * n) {
    throw new PipelineInputError(
      'partner vectors',
      `hold ${vectors.length} values, expected 3 × ${n} (3, z, y, x) for probability [${shape}]`,
      'pass the 3 vector channels over the same region as the probability',
    );
  }
  const { voxelSize: vs, offset = [0, 0, 0], threshold = 0.5, minScore = 0 } = options;
  const above = new Uint8Array(n);
  for (let i = 0; i < n; i++) above[i] = (probability.data[i] as number) > threshold ? 1 : 0;
  const { labels, count } = labelComponents({ shape, data: above });
  const boxes = boundingBoxes(labels, shape, count);
  const partners: Partner[] = [];
  for (let label = 1; label <= count; label++) {
    const box = boxes[label - 1] as Box;
    let score = 0;
    let size = 0;
    // the component alone, padded by one voxel so that its border counts as outside
    const ps: Shape3 = [box.hi[0] - box.lo[0] + 3, box.hi[1] - box.lo[1] + 3, box.hi[2] - box.lo[2] + 3];
    const inside = new Uint8Array(ps[0] * ps[1] * ps[2]);
    for (let z = box.lo[0]; z <= box.hi[0]; z++) {
      for (let y = box.lo[1]; y <= box.hi[1]; y++) {
        for (let x = box.lo[2]; x <= box.hi[2]; x++) {
          const i = (z * shape[1] + y) * shape[2] + x;
          if (labels[i] !== label) continue;
          score += probability.data[i] as number;
          size++;
          inside[((z - box.lo[0] + 1) * ps[1] + (y - box.lo[1] + 1)) * ps[2] + (x - box.lo[2] + 1)] = 1;
        }
      }
    }
    if (score < minScore) continue;
    const d2 = squaredEdt({ shape: ps, data: inside }, vs);
    let best = -1;
    let bestD = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d2.length; i++) {
      const d = Math.sqrt(d2[i] as number);
      if (d > bestD) {
        bestD = d;
        best = i;
      }
    }
    const index: Vec3 = [
      Math.floor(best / (ps[1] * ps[2])) - 1 + box.lo[0],
      (Math.floor(best / ps[2]) % ps[1]) - 1 + box.lo[1],
      (best % ps[2]) - 1 + box.lo[2],
    ];
    const flat = (index[0] * shape[1] + index[1]) * shape[2] + index[2];
    const post = index.map((v, a) => (offset[a] as number) + v * (vs[a] as number)) as Vec3;
    const pre = post.map((p, a) => p + (vectors[a * n + flat] as number)) as Vec3;
    partners.push({ post, pre, score, size });
  }
  return partners;
}

interface Box {
  lo: Vec3;
  hi: Vec3;
}

function boundingBoxes(labels: Int32Array, shape: Shape3, count: number): Box[] {
  const boxes: Box[] = Array.from({ length: count }, () => ({
    lo: [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    hi: [-1, -1, -1],
  }));
  for (let z = 0, i = 0; z < shape[0]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      for (let x = 0; x < shape[2]; x++, i++) {
        const l = labels[i] as number;
        if (l === 0) continue;
        const b = boxes[l - 1] as Box;
        const c: Vec3 = [z, y, x];
        for (let a = 0; a < 3; a++) {
          b.lo[a] = Math.min(b.lo[a] as number, c[a] as number);
          b.hi[a] = Math.max(b.hi[a] as number, c[a] as number);
        }
      }
    }
  }
  return boxes;
}
