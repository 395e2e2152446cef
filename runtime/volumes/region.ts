/** A box in voxel coordinates, half-open per axis: [start[i], stop[i]). */
export interface Region {
  readonly start: readonly number[];
  readonly stop: readonly number[];
}

export function regionShape(r: Region): number[] {
  return r.start.map((s, i) => (r.stop[i] as number) - s);
}

/** The part of `r` inside [0, shape); empty axes give stop === start. */
export function clipRegion(r: Region, shape: readonly number[]): Region {
  const start = r.start.map((s, i) => Math.min(Math.max(s, 0), shape[i] as number));
  const stop = r.stop.map((s, i) => Math.max(Math.min(s, shape[i] as number), start[i] as number));
  return { start, stop };
}
