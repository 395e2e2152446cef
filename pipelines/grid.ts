/** A dense 3D C-order (z, y, x) volume: the shape every pipeline step passes around. */
import { PipelineInputError, VolumeTooLargeError } from './errors.js';

export type Shape3 = readonly [number, number, number];

export interface Grid<T extends ArrayLike<number>> {
  readonly shape: Shape3;
  readonly data: T;
}

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** Throws a tagged error when `data` does not hold exactly the voxels of `shape`. */
export function checkGrid(what: string, shape: readonly number[], length: number): Shape3 {
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new PipelineInputError(
      what,
      `needs a (z, y, x) shape of positive integers, got [${shape}]`,
      'pass a 3D volume',
    );
  }
  const s = shape as unknown as Shape3;
  if (voxelCount(s) !== length) {
    throw new PipelineInputError(
      what,
      `holds ${length} values but shape [${shape}] needs ${voxelCount(s)}`,
      'pass data in C order matching the shape',
    );
  }
  return s;
}

/** Refuses volumes larger than `budget` voxels (whole-volume steps hold several copies in memory). */
export function checkVoxelBudget(what: string, voxels: number, budget: number, howToRaise: string): void {
  if (voxels > budget) throw new VolumeTooLargeError(what, voxels, budget, howToRaise);
}

/**
 * Default voxel budget: 2²³ ≈ 8.4 M voxels (about 203³), ≈ 2 GB at the segmentation's peak of
 * about 250 bytes per voxel (measured: RSS growth on a noisy 128³ volume).
 */
export const DEFAULT_VOXEL_BUDGET = 2 ** 23;

/** Flat index of the first voxel of every line along `axis` (C order). */
export function* lineStarts(shape: Shape3, axis: number): Generator<number> {
  const [nz, ny, nx] = shape;
  if (axis === 0) for (let i = 0; i < ny * nx; i++) yield i;
  else if (axis === 1) for (let z = 0; z < nz; z++) for (let x = 0; x < nx; x++) yield z * ny * nx + x;
  else for (let i = 0; i < nz * ny; i++) yield i * nx;
}
