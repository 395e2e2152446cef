/**
 * Minimal .npy reader (format v1/v2/v3): header (dtype, shape, order) and the values as numbers,
 * enough for shape/dtype checks and value statistics. Not a general array library.
 */

import { SpecError } from './errors.js';

export type NpyDtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'uint64'
  | 'int64'
  | 'bool';

export interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly littleEndian: boolean;
  readonly itemSize: number;
  readonly shape: readonly number[];
  readonly fortranOrder: boolean;
  /** Byte offset of the first element. */
  readonly dataOffset: number;
}

const KINDS: Readonly<Record<string, NpyDtype>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  u8: 'uint64',
  i8: 'int64',
  b1: 'bool',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function fail(
  message: string,
  hint = 'Write the file with numpy.save (C order, a plain numeric dtype).',
): never {
  throw new SpecError('NpyFormatError', message, hint);
}

export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (bad magic bytes)');
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    fail(`unsupported .npy format version ${major}`);
  }
  if (start + headerLen > bytes.length) fail('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );

  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  if (!descr)
    fail(
      `unsupported or missing 'descr' in .npy header: ${header.trim()}`,
      'Use a plain numeric dtype (structured dtypes are not tensors).',
    );
  const dtype = KINDS[descr[2] as string];
  if (dtype === undefined)
    fail(`unsupported .npy dtype '${descr[2]}'`, `Use one of ${Object.keys(KINDS).join(', ')}.`);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  if (!fortran) fail(`missing 'fortran_order' in .npy header: ${header.trim()}`);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) fail(`missing 'shape' in .npy header: ${header.trim()}`);
  const shape = (shapeMatch[1] as string)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) fail(`bad dimension '${s}' in .npy shape`);
      return n;
    });
  const itemSize = Number((descr[2] as string).slice(1));
  const dataOffset = start + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataOffset < count * itemSize) {
    fail(
      `.npy data is truncated: shape (${shape.join(', ')}) needs ${count * itemSize} bytes, found ${bytes.length - dataOffset}`,
    );
  }
  return {
    dtype,
    littleEndian: descr[1] !== '>',
    itemSize,
    shape,
    fortranOrder: fortran[1] === 'True',
    dataOffset,
  };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Element i (in storage order) as a JS number (64-bit ints lose precision above 2^53). */
function reader(h: NpyHeader, view: DataView): (i: number) => number {
  const le = h.littleEndian;
  const o = h.dataOffset;
  switch (h.dtype) {
    case 'float16':
      return (i) => halfToFloat(view.getUint16(o + 2 * i, le));
    case 'float32':
      return (i) => view.getFloat32(o + 4 * i, le);
    case 'float64':
      return (i) => view.getFloat64(o + 8 * i, le);
    case 'uint8':
    case 'bool':
      return (i) => view.getUint8(o + i);
    case 'int8':
      return (i) => view.getInt8(o + i);
    case 'uint16':
      return (i) => view.getUint16(o + 2 * i, le);
    case 'int16':
      return (i) => view.getInt16(o + 2 * i, le);
    case 'uint32':
      return (i) => view.getUint32(o + 4 * i, le);
    case 'int32':
      return (i) => view.getInt32(o + 4 * i, le);
    case 'uint64':
      return (i) => Number(view.getBigUint64(o + 8 * i, le));
    case 'int64':
      return (i) => Number(view.getBigInt64(o + 8 * i, le));
  }
}

export interface NpyStats {
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

/** Min and max over all elements (order-independent, so Fortran-order files are fine). */
export function npyStats(bytes: Uint8Array, header: NpyHeader = parseNpyHeader(bytes)): NpyStats {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = reader(header, view);
  const count = header.shape.reduce((a, b) => a * b, 1);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const v = get(i);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, count };
}

/** All values in C order as float64 (Fortran-order files are transposed). */
export function readNpyValues(bytes: Uint8Array): { header: NpyHeader; values: Float64Array } {
  const header = parseNpyHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = reader(header, view);
  const shape = header.shape;
  const count = shape.reduce((a, b) => a * b, 1);
  const values = new Float64Array(count);
  if (!header.fortranOrder || shape.length < 2) {
    for (let i = 0; i < count; i++) values[i] = get(i);
    return { header, values };
  }
  // Fortran order: the first index varies fastest in storage.
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < count; f++) {
    let c = 0;
    for (let d = 0; d < shape.length; d++) c = c * (shape[d] as number) + (idx[d] as number);
    values[c] = get(f);
    for (let d = 0; d < shape.length; d++) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
  }
  return { header, values };
}
