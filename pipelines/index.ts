/**
 * pipelines/: the post-processing of each task on whole in-memory volumes (imports only runtime/
 * and spec/; server/ and cli/ may import it).
 *
 * ```ts
 * import { affinities, segmentAffinities, extractPartners, neuronVotes } from '../pipelines/index.js';
 * const seg = segmentAffinities(affinities([3, z, y, x], data, [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]));
 * ```
 * @module
 */
export {
  isPipelineError,
  type PipelineError,
  type PipelineErrorTag,
  PipelineInputError,
  SolverFailedError,
  VolumeTooLargeError,
} from './errors.js';
export { checkGrid, checkVoxelBudget, DEFAULT_VOXEL_BUDGET, type Grid, type Shape3 } from './grid.js';
export * from './micron/index.js';
export * from './segmentation/index.js';
export * from './synful/index.js';
export * from './synister/index.js';
