/** Small whole-tensor operations the model test needs: resize by reflect/crop, flip, stack, slice. */
import { type Float32Nd, float32 } from './npy.js';

const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
};

/** numpy 'reflect' index for any i (repeats the mirror pattern for pads longer than the axis). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Generic gather: out[idx] = t[map(idx)], axis by axis. */
function gather(
  t: Float32Nd,
  shape: readonly number[],
  pick: (axis: number, i: number) => number,
): Float32Nd {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const inS = strides(t.shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < shape.length; a++) src += pick(a, idx[a] as number) * (inS[a] as number);
    out[o] = t.data[src] as number;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (shape[a] as number)) break;
      idx[a] = 0;
    }
  }
  return float32(shape, out);
}

/**
 * Resize to `shape` keeping the origin: axes that grow are extended at their end by reflection,
 * axes that shrink are cropped at their end. So out[0:n] = t[0:n] on every axis.
 */
export function resizeAtOrigin(t: Float32Nd, shape: readonly number[]): Float32Nd {
  return gather(t, shape, (a, i) => reflect(i, t.shape[a] as number));
}

/** Mirror along the last axis (a second, different sample with the same statistics). */
export function flipLast(t: Float32Nd): Float32Nd {
  const last = t.shape.length - 1;
  return gather(t, t.shape, (a, i) => (a === last ? (t.shape[a] as number) - 1 - i : i));
}

/** Concatenate along axis 0. */
export function concatBatch(a: Float32Nd, b: Float32Nd): Float32Nd {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return float32([(a.shape[0] as number) + (b.shape[0] as number), ...a.shape.slice(1)], data);
}

/** Sub-block [start, start + size) on every axis. */
export function slice(t: Float32Nd, start: readonly number[], size: readonly number[]): Float32Nd {
  return gather(t, size, (a, i) => (start[a] as number) + i);
}

/**
 * `t` centred in a zero border of `shape` (same rank, every axis ≥ t's; the extra splits as
 * floor/ceil like numpy's symmetric pad): a valid output padded back to its input's size.
 */
export function padCentred(t: Float32Nd, shape: readonly number[]): Float32Nd {
  if (shape.length !== t.shape.length || shape.some((n, a) => n < (t.shape[a] as number))) {
    throw new RangeError(`cannot pad [${t.shape.join(', ')}] to [${shape.join(', ')}]`);
  }
  const lo = shape.map((n, a) => Math.floor((n - (t.shape[a] as number)) / 2));
  const outS = strides(shape);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const rank = t.shape.length;
  const row = t.shape[rank - 1] as number;
  const idx = new Array<number>(rank).fill(0);
  // copy one last-axis row at a time: idx walks every row start of t
  for (let src = 0; src < t.data.length; src += row) {
    let dst = 0;
    for (let a = 0; a < rank; a++) dst += ((idx[a] as number) + (lo[a] as number)) * (outS[a] as number);
    out.set(t.data.subarray(src, src + row), dst);
    for (let a = rank - 2; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (t.shape[a] as number)) break;
      idx[a] = 0;
    }
  }
  return float32(shape, out);
}
