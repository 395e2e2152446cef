import type { NdArray } from './ndarray.js';
import { stridesOf } from './ndarray.js';

/**
 * What to keep of a network output [N, C, ...spatial]: a spatial window (start relative to the
 * output, shape) and the dtype. uint8 stores value·255 rounded half up and clamped to 0..255, as
 * the original pipelines store affinities and masks; float16 rounds to the nearest half float
 * (ties to even, as numpy's astype(float16)), raw bits in a Uint16Array. Done where the model ran
 * (in the worker), so the caller receives only what it keeps.
 */
export interface OutputShaping {
  readonly start: readonly number[];
  readonly shape: readonly number[];
  readonly dtype: ShapedDType;
}
export type ShapedDType = 'float32' | 'uint8' | 'float16';

/** value·255 rounded half up, clamped to 0..255 (NaN → 0); = clamp(Math.round(v·255)). */
function toU8(dst: Uint8Array, k: number, src: Float32Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = (src[from + i] as number) * 255 + 0.5;
    dst[k + i] = t < 1 ? 0 : t >= 255 ? 255 : t | 0;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-float bits of `v`, rounded to nearest, ties to even; overflow → ±inf; NaN stays NaN. */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200 | (mant >>> 13)); // inf, quiet NaN
  const e = exp - 112; // rebiased exponent (127 → 15)
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000; // subnormal: the implicit bit shifted in
    const shift = 14 - e;
    const h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (rem > half || (rem === half && (h & 1) === 1) ? h + 1 : h);
  }
  const h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the right result (up to inf).
  return sign | (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1) ? h + 1 : h);
}

/** The number a half-float bit pattern stands for. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * toHalfBits over a row, on the float32 bits directly: a normal half (2^-14 ≤ |v| < 65536) is
 * rounded to nearest even by one integer add (a carry out of the significand lands in the exponent,
 * up to inf); the rest goes through toHalfBits. Same results bit for bit.
 */
function toF16(dst: Uint16Array, k: number, src: Float32Array, from: number, n: number): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset + from * 4, n);
  for (let i = 0; i < n; i++) {
    const x = bits[i] as number;
    const a = x & 0x7fffffff;
    if (a >= 0x38800000 && a < 0x47800000) {
      const r = a + 0x0fff + ((a >>> 13) & 1);
      dst[k + i] = ((x >>> 16) & 0x8000) | ((r - 0x38000000) >>> 13);
    } else {
      dst[k + i] = toHalfBits(src[from + i] as number);
    }
  }
}

type Shaped = NdArray<'float32' | 'uint8' | 'float16'>;

/** Crops `y` ([N, C, ...spatial], float32) to `s`'s window and converts it; N and C are kept. */
export function cropConvert(
  y: NdArray<'float32'>,
  s: OutputShaping & { dtype: 'float32' | 'uint8' },
): NdArray<'float32' | 'uint8'>;
export function cropConvert(y: NdArray<'float32'>, s: OutputShaping): Shaped;
export function cropConvert(y: NdArray<'float32'>, s: OutputShaping): Shaped {
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
  if (whole && s.dtype === 'float16') {
    const dst = new Uint16Array(n);
    toF16(dst, 0, src, 0, n);
    return { dtype: 'float16', shape, data: dst };
  }
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
  const h16 = s.dtype === 'float16' ? new Uint16Array(n) : undefined;
  const f = u8 || h16 ? undefined : new Float32Array(n);
  let k = 0;
  const rec = (axis: number, base: number) => {
    const from = base + (s.start[axis] as number) * (st[axis] as number);
    if (axis === last) {
      if (u8) toU8(u8, k, src, from, rowLen);
      else if (h16) toF16(h16, k, src, from, rowLen);
      else (f as Float32Array).set(src.subarray(from, from + rowLen), k);
      k += rowLen;
      return;
    }
    for (let i = 0; i < (s.shape[axis] as number); i++) rec(axis + 1, from + i * (st[axis] as number));
  };
  for (let c = 0; c < outer; c++) rec(0, c * srcPlane);
  if (u8) return { dtype: 'uint8', shape, data: u8 };
  if (h16) return { dtype: 'float16', shape, data: h16 };
  return { dtype: 'float32', shape, data: f as Float32Array };
}
