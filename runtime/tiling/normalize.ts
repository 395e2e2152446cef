import type { Volume } from '../volumes/open-volume.js';

/** value → value·gain + offset, fixed for the whole dataset (never per block: that causes seams). */
export interface LinearMap {
  readonly gain: number;
  readonly offset: number;
}

export type Normalization =
  /** Fixed gain/offset, e.g. a bundle's declared preprocessing (uint8 → [0,1]: gain 1/255). */
  | { readonly kind: 'scale_linear'; readonly gain: number; readonly offset: number }
  /** Fixed dataset statistics. */
  | {
      readonly kind: 'zero_mean_unit_variance';
      readonly mean: number;
      readonly std: number;
      readonly eps?: number;
    }
  /**
   * Percentiles computed once over a strided sample of the dataset, mapping [lo, hi] → [0, 1]
   * (bioimage.io scale_range with mode per_dataset).
   */
  | {
      readonly kind: 'scale_range';
      readonly minPercentile: number;
      readonly maxPercentile: number;
      readonly eps?: number;
      /** Edge of the cubic sample boxes; default 32. */
      readonly sampleBox?: number;
      /** Boxes per spatial axis; default 4. */
      readonly samplesPerAxis?: number;
    };

/** Evenly spaced box origins on an axis of length n. */
function axisStarts(n: number, box: number, per: number): number[] {
  const count = Math.min(per, Math.ceil(n / box));
  const span = n - Math.min(box, n);
  const starts: number[] = [];
  for (let k = 0; k < count; k++) starts.push(count === 1 ? 0 : Math.round((k * span) / (count - 1)));
  return [...new Set(starts)];
}

/** Evenly spaced sample boxes over `shape` (spatial axes last; leading axes read whole). */
function sampleRegions(shape: readonly number[], spatial: number, box: number, per: number) {
  const lead = shape.length - spatial;
  let starts: number[][] = [[]];
  shape.forEach((n, a) => {
    const opts = a < lead ? [0] : axisStarts(n, box, per);
    starts = starts.flatMap((s) => opts.map((o) => [...s, o]));
  });
  return starts.map((start) => ({
    start,
    stop: start.map((s, a) => (a < lead ? (shape[a] as number) : Math.min(s + box, shape[a] as number))),
  }));
}

/** Value at percentile p (0..100) of sorted values, linear interpolation as numpy's default. */
export function percentile(sorted: Float64Array | Float32Array, p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample');
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** Turns a normalisation into one fixed linear map, reading a sample of `volume` if needed. */
export async function resolveNormalization(
  n: Normalization,
  volume: Volume,
  options: { spatialAxes?: number; signal?: AbortSignal } = {},
): Promise<LinearMap> {
  switch (n.kind) {
    case 'scale_linear':
      return { gain: n.gain, offset: n.offset };
    case 'zero_mean_unit_variance': {
      const gain = 1 / (n.std + (n.eps ?? 1e-6));
      return { gain, offset: -n.mean * gain };
    }
    case 'scale_range': {
      if (!(n.minPercentile >= 0 && n.minPercentile < n.maxPercentile && n.maxPercentile <= 100)) {
        throw new TypeError(
          `percentiles must satisfy 0 <= min < max <= 100, got ${n.minPercentile}, ${n.maxPercentile}`,
        );
      }
      const regions = sampleRegions(
        volume.shape,
        options.spatialAxes ?? 3,
        n.sampleBox ?? 32,
        n.samplesPerAxis ?? 4,
      );
      const parts: ArrayLike<number>[] = [];
      for (const r of regions)
        parts.push((await volume.read(r, { signal: options.signal })).data as ArrayLike<number>);
      const all = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
      let k = 0;
      for (const p of parts) for (let i = 0; i < p.length; i++) all[k++] = p[i] as number;
      all.sort();
      const lo = percentile(all, n.minPercentile);
      const hi = percentile(all, n.maxPercentile);
      const gain = 1 / (hi - lo + (n.eps ?? 1e-6));
      return { gain, offset: -lo * gain };
    }
  }
}
