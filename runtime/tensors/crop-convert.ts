import type { NdArray } from './ndarray.js';
import { stridesOf } from './ndarray.js';

/**
 * What to keep of a network output [N, C, ...spatial]: a spatial window (start relative to the
 * output, shape) and the dtype. uint8 stores value·255 rounded half up and clamped to 0..255, as
 * the original pipelines store affinities and masks. Done where the model ran (in the worker), so
 * the caller receives only what it keeps.
 */
export interface OutputShaping {
  readonly start: readonly number[];
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'uint8';
}

/** value·255 rounded half up, clamped to 0..255 (NaN → 0); = clamp(Math.round(v·255)). */
function toU8(dst: Uint8Array, k: number, src: Float32Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = (src[from + i] as number) * 255 + 0.5;
    dst[k + i] = t < 1 ? 0 : t >= 255 ? 255 : t | 0;
  }
}

/** Crops `y` ([N, C, ...spatial], float32) to `s`'s window and converts it; N and C are kept. */
export function cropConvert(y: NdArray<'float32'>, s: OutputShaping): NdArray<'float32' | 'uint8'> {
  const lead = y.shape.length - s.shape.length;
  const spatial = y.shape.slice(lead);
  if (lead < 0 || s.start.some((v, a) => v < 0 || v + (s.shape[a] as number) > (spatial[a] as number))) {
    throw new RangeError(
      `output window start [${s.start}] shape [${s.shape}] does not fit the output [${y.shape}]`,
    );
  }
  const outer = y.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  const whole = s.start.every((v) => v === 0) && s.shape.every((v, a) => v === spatial[a]);
  if (whole && s.dtype === 'float32') return y;
  const plane = s.shape.reduce((a, b) => a * b, 1);
  const n = outer * plane;
  const src = y.data;
  const shape = [...y.shape.slice(0, lead), ...s.shape];
  if (whole) {
    const dst = new Uint8Array(n);
    toU8(dst, 0, src, 0, n);
    return { dtype: 'uint8', shape, data: dst };
  }
  const st = stridesOf(spatial);
  const srcPlane = spatial.reduce((a, b) => a * b, 1);
  const last = s.shape.length - 1;
  const rowLen = s.shape[last] as number;
  const u8 = s.dtype === 'uint8' ? new Uint8Array(n) : undefined;
  const f32 = u8 ? undefined : new Float32Array(n);
  let k = 0;
  const rec = (axis: number, base: number) => {
    const from = base + (s.start[axis] as number) * (st[axis] as number);
    if (axis === last) {
      if (u8) toU8(u8, k, src, from, rowLen);
      else (f32 as Float32Array).set(src.subarray(from, from + rowLen), k);
      k += rowLen;
      return;
    }
    for (let i = 0; i < (s.shape[axis] as number); i++) rec(axis + 1, from + i * (st[axis] as number));
  };
  for (let c = 0; c < outer; c++) rec(0, c * srcPlane);
  return u8 ? { dtype: 'uint8', shape, data: u8 } : { dtype: 'float32', shape, data: f32 as Float32Array };
}
