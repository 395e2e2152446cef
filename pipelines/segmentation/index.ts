export { type Affinities, affinities, nearestChannels, type Offset } from './affinities.js';
export { agglomerateMean } from './agglomerate-mean.js';
export { edtFloat32, squaredEdt } from './edt.js';
export { fillBackground } from './fill-background.js';
export { type Fragments, foregroundMask, fragmentsFromAffinities } from './fragments-from-affinities.js';
export { type Components, labelComponents } from './label-components.js';
export { maximumFilter } from './max-filter.js';
export { nearestZeroIndex } from './nearest-feature.js';
export { type RegionGraph, regionGraph } from './region-graph.js';
export { type SegmentOptions, segmentAffinities } from './segment-affinities.js';
export {
  adaptedRand,
  type Labels,
  type SegmentationScores,
  segmentationScores,
  voi,
} from './segmentation-metrics.js';
export { watershed } from './watershed.js';
