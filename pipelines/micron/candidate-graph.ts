/**
 * Candidates → candidate graph (originals §5.3 step 2): an edge between every two candidates
 * within `maxDistance` nm; its evidence is the mean of (1 − soft mask) over the voxels of the
 * discretised line between them (lower = more microtubule-like), as Micron's (255 − mask)/255.
 */
import type { Grid } from '../grid.js';

export type Point3 = [number, number, number];

export interface CandidateGraph {
  /** Candidate positions in voxels and in nm (offset + index · voxel size). */
  readonly voxels: Point3[];
  readonly nm: Point3[];
  /** Edges [a, b] with a < b, and their evidence. */
  readonly edges: [number, number][];
  readonly evidence: number[];
}

export interface GraphOptions {
  readonly voxelSize: readonly [number, number, number];
  readonly offset?: readonly [number, number, number];
  readonly maxDistance: number;
}

export function candidateGraph(
  soft: Grid<ArrayLike<number>>,
  candidates: readonly number[],
  options: GraphOptions,
): CandidateGraph {
  const [, ny, nx] = soft.shape;
  const { voxelSize: vs, offset = [0, 0, 0], maxDistance } = options;
  const voxels = candidates.map((i): Point3 => [Math.floor(i / (ny * nx)), Math.floor(i / nx) % ny, i % nx]);
  const nm = voxels.map((p) => p.map((c, a) => (offset[a] as number) + c * (vs[a] as number)) as Point3);
  const edges: [number, number][] = [];
  const evidence: number[] = [];
  for (let a = 0; a < nm.length; a++) {
    for (let b = a + 1; b < nm.length; b++) {
      const pa = nm[a] as Point3;
      const pb = nm[b] as Point3;
      if (Math.hypot(pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]) > maxDistance) continue;
      edges.push([a, b]);
      evidence.push(lineEvidence(soft, voxels[a] as Point3, voxels[b] as Point3));
    }
  }
  return { voxels, nm, edges, evidence };
}

/** Mean of 1 − soft over the voxels of the line from p to q (both ends included). */
export function lineEvidence(soft: Grid<ArrayLike<number>>, p: Point3, q: Point3): number {
  const [, ny, nx] = soft.shape;
  const steps = Math.max(Math.abs(q[0] - p[0]), Math.abs(q[1] - p[1]), Math.abs(q[2] - p[2]));
  let sum = 0;
  for (let s = 0; s <= steps; s++) {
    const t = steps === 0 ? 0 : s / steps;
    const z = Math.round(p[0] + t * (q[0] - p[0]));
    const y = Math.round(p[1] + t * (q[1] - p[1]));
    const x = Math.round(p[2] + t * (q[2] - p[2]));
    sum += 1 - Math.min(1, Math.max(0, soft.data[(z * ny + y) * nx + x] as number));
  }
  return sum / (steps + 1);
}
