export {
  type CandidateGraph,
  candidateGraph,
  type GraphOptions,
  lineEvidence,
  type Point3,
} from './candidate-graph.js';
export { type NmsOptions, nmsCandidates } from './nms-candidates.js';
export { type SoftMaskScores, scoreSoftMask } from './soft-mask-scores.js';
export { MICRON_COSTS, solveTracks, type TrackCosts, trackModel, trackVariables } from './track-ilp.js';
export { type Track, tracksFromEdges } from './tracks.js';
