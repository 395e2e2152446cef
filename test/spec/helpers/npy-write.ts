/** Test-side .npy v1.0 writer (C order), so fixtures do not depend on the reader under test. */

const DESCR: Record<string, string> = {
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  uint32: '<u4',
  int32: '<i4',
  uint64: '<u8',
  int64: '<i8',
  bool: '|b1',
};

export type WritableDtype = keyof typeof DESCR;

export function writeNpy(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: WritableDtype = 'float32',
  opts: { fortran?: boolean; bigEndian?: boolean } = {},
): Uint8Array {
  let descr = DESCR[dtype] as string;
  if (opts.bigEndian && descr.startsWith('<')) descr = `>${descr.slice(1)}`;
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const itemSize = Number(descr.slice(2));
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(10 + header.length + count * itemSize);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  const le = !opts.bigEndian;
  for (let i = 0; i < count; i++) {
    const v = values[i] as number;
    const o = i * itemSize;
    switch (dtype) {
      case 'float16':
        view.setUint16(o, toHalf(v), le);
        break;
      case 'float32':
        view.setFloat32(o, v, le);
        break;
      case 'float64':
        view.setFloat64(o, v, le);
        break;
      case 'uint8':
      case 'bool':
        view.setUint8(o, v);
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'uint16':
        view.setUint16(o, v, le);
        break;
      case 'int16':
        view.setInt16(o, v, le);
        break;
      case 'uint32':
        view.setUint32(o, v, le);
        break;
      case 'int32':
        view.setInt32(o, v, le);
        break;
      case 'uint64':
        view.setBigUint64(o, BigInt(v), le);
        break;
      case 'int64':
        view.setBigInt64(o, BigInt(v), le);
        break;
    }
  }
  return out;
}

/** float → IEEE half (round toward zero; enough for test values). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = (x >>> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | mant;
}

/** Deterministic pseudo-random values in [lo, hi) (mulberry32). */
export function seededValues(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}
