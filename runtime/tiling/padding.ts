import { UnsupportedDtypeError } from '../errors.js';
import { type NdArray, sizeOf, stridesOf } from '../tensors/ndarray.js';
import type { Volume } from '../volumes/open-volume.js';
import type { Region } from '../volumes/region.js';
import type { LinearMap } from './normalize.js';

/** How voxels outside the volume are filled: 0 (in network input space), mirrored, or the edge value. */
export type PadMode = 'zero' | 'reflect' | 'edge';

/** Source index of coordinate p in an axis of length n, or -1 for a zero voxel. numpy's 'reflect' (no edge repeat). */
export function sourceIndex(p: number, n: number, mode: PadMode): number {
  if (p >= 0 && p < n) return p;
  if (mode === 'zero') return -1;
  if (mode === 'edge' || n === 1) return p < 0 ? 0 : n - 1;
  const period = 2 * (n - 1);
  const m = ((p % period) + period) % period;
  return m < n ? m : period - m;
}

const NUMERIC = ['float32', 'float64', 'float16', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'uint32'];

/**
 * Reads `region` (spatial; may extend outside the volume) as float32 [C, ...spatial], normalised
 * with `norm` and padded by `mode`. A volume without a channel axis (rank = spatial rank) gives C = 1.
 */
export async function readPadded(
  volume: Volume,
  region: Region,
  mode: PadMode,
  norm: LinearMap,
  options: { signal?: AbortSignal } = {},
): Promise<NdArray<'float32'>> {
  if (!NUMERIC.includes(volume.dtype) || volume.dtype === 'float16') {
    throw new UnsupportedDtypeError(
      volume.dtype,
      NUMERIC.filter((d) => d !== 'float16'),
      `input ${volume.location}`,
    );
  }
  const spatialRank = region.start.length;
  const lead = volume.shape.length - spatialRank;
  const channels = lead === 1 ? (volume.shape[0] as number) : 1;
  const vshape = volume.shape.slice(lead);
  const outShape = region.start.map((s, a) => (region.stop[a] as number) - s);
  // Per axis: source index of every output coordinate; the box to read spans their min..max.
  const src = outShape.map((len, a) =>
    Int32Array.from({ length: len }, (_, i) =>
      sourceIndex((region.start[a] as number) + i, vshape[a] as number, mode),
    ),
  );
  const lo = src.map((s) => s.reduce((m, v) => (v >= 0 && v < m ? v : m), Number.POSITIVE_INFINITY));
  const hi = src.map((s) => s.reduce((m, v) => Math.max(m, v), -1));
  const out = new Float32Array(channels * sizeOf(outShape)); // zeros: the 'zero' padding
  if (lo.some((v, a) => v > (hi[a] as number)))
    return { dtype: 'float32', shape: [channels, ...outShape], data: out };

  const boxStart = lo as number[];
  const boxStop = hi.map((v) => v + 1);
  const raw = await volume.read(
    { start: [...(lead ? [0] : []), ...boxStart], stop: [...(lead ? [channels] : []), ...boxStop] },
    { signal: options.signal },
  );
  const data = raw.data as ArrayLike<number>;
  const boxShape = boxStop.map((v, a) => v - (boxStart[a] as number));
  const boxStrides = stridesOf(boxShape);
  const outStrides = stridesOf(outShape);
  // Source offset per output coordinate and axis (-1: zero voxel).
  const offs = src.map((s, a) =>
    Int32Array.from(s, (v) => (v < 0 ? -1 : (v - (boxStart[a] as number)) * (boxStrides[a] as number))),
  );
  const { gain, offset } = norm;
  const boxSize = sizeOf(boxShape);
  const last = spatialRank - 1;
  const lastOffs = offs[last] as Int32Array;
  const rec = (axis: number, srcBase: number, dstBase: number) => {
    const o = offs[axis] as Int32Array;
    const ds = outStrides[axis] as number;
    if (axis === last) {
      for (let i = 0; i < lastOffs.length; i++) {
        const so = lastOffs[i] as number;
        if (so >= 0) out[dstBase + i] = (data[srcBase + so] as number) * gain + offset;
      }
      return;
    }
    for (let i = 0; i < o.length; i++) {
      const so = o[i] as number;
      if (so >= 0) rec(axis + 1, srcBase + so, dstBase + i * ds);
    }
  };
  const plane = sizeOf(outShape);
  for (let c = 0; c < channels; c++) rec(0, c * boxSize, c * plane);
  return { dtype: 'float32', shape: [channels, ...outShape], data: out };
}
