/** Affinities (channels, z, y, x) with one voxel offset (dz, dy, dx) per channel, checked once. */
import { PipelineInputError } from '../errors.js';
import { checkGrid, type Shape3 } from '../grid.js';

export type Offset = readonly [number, number, number];

export interface Affinities {
  /** (z, y, x) of one channel. */
  readonly shape: Shape3;
  /** channels × z × y × x values in [0, 1], C order. */
  readonly data: Float32Array;
  readonly offsets: readonly Offset[];
}

export function affinities(
  shape: readonly number[],
  data: Float32Array,
  offsets: readonly (readonly number[])[],
): Affinities {
  if (shape.length !== 4 || shape[0] !== offsets.length) {
    throw new PipelineInputError(
      'affinities',
      `shape [${shape}] does not fit ${offsets.length} offsets`,
      'pass (channels, z, y, x) affinities with one (dz, dy, dx) offset per channel',
    );
  }
  for (const o of offsets) {
    if (o.length !== 3 || !o.every(Number.isInteger)) {
      throw new PipelineInputError(
        'affinity offsets',
        `[${o}] is not a (dz, dy, dx) integer triple`,
        'e.g. [-1,0,0]',
      );
    }
  }
  const spatial = checkGrid('affinities', shape.slice(1), data.length / offsets.length);
  return { shape: spatial, data, offsets: offsets.map((o) => [o[0], o[1], o[2]] as Offset) };
}

/** Channels whose offset is a single face step; all channels when there is none. */
export function nearestChannels(offsets: readonly Offset[]): number[] {
  const near = offsets.flatMap((o, i) => (Math.abs(o[0]) + Math.abs(o[1]) + Math.abs(o[2]) === 1 ? [i] : []));
  return near.length > 0 ? near : offsets.map((_, i) => i);
}
