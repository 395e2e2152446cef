import { readFile } from 'node:fs/promises';
import { InvalidNpyError, UnsupportedDtypeError } from '../errors.js';
import { type DType, TYPED_ARRAY, type TypedArrayOf } from './dtype.js';
import { type NdArray, sizeOf } from './ndarray.js';
import { DESCR_OF, DTYPE_OF_DESCR, NPY_MAGIC } from './npy-format.js';

interface NpyHeader {
  readonly dtype: DType;
  readonly shape: number[];
  readonly dataOffset: number;
}

const FIX_HINT =
  "re-save it with numpy: np.save(path, np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder('<')))";

function parseHeader(bytes: Uint8Array, source: string): NpyHeader {
  const bad = (reason: string, hint = FIX_HINT) => new InvalidNpyError(source, reason, hint);
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw bad('bad magic (expected \\x93NUMPY at the start)', 'pass a file written by numpy.save');
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw bad(`unknown format version ${major}.${bytes[7]}`);
  }
  if (headerStart + headerLen > bytes.length) throw bad('truncated header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`header dict lacks descr/fortran_order/shape: ${text.trim()}`);
  }
  if (fortran === 'True') throw bad('Fortran-order data is not supported', `${FIX_HINT} (C order)`);
  const dtype = DTYPE_OF_DESCR.get(descr);
  if (dtype === undefined) {
    if (descr.startsWith('>')) throw bad(`big-endian dtype '${descr}'`);
    throw new UnsupportedDtypeError(descr, Object.values(DESCR_OF), source);
  }
  const parts = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const shape = parts.map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`invalid shape (${shapeText})`);
  return { dtype, shape, dataOffset: headerStart + headerLen };
}

/**
 * Parses .npy bytes. The result is a view on `bytes` (zero-copy) when the data is aligned for its
 * element type; otherwise the data is copied once.
 */
export function parseNpy(bytes: Uint8Array, source = '<buffer>'): NdArray {
  const { dtype, shape, dataOffset } = parseHeader(bytes, source);
  const Ctor = TYPED_ARRAY[dtype];
  const n = sizeOf(shape);
  const byteLength = n * Ctor.BYTES_PER_ELEMENT;
  const available = bytes.length - dataOffset;
  if (available < byteLength) {
    throw new InvalidNpyError(
      source,
      `truncated data: shape (${shape.join(', ')}) ${dtype} needs ${byteLength} bytes, file has ${available}`,
      'the file was cut short; copy or write it again',
    );
  }
  if (available > byteLength) {
    throw new InvalidNpyError(
      source,
      `${available - byteLength} unexpected bytes after the data`,
      'the header does not describe the data; write the file again with numpy.save',
    );
  }
  const start = bytes.byteOffset + dataOffset;
  const data =
    start % Ctor.BYTES_PER_ELEMENT === 0
      ? new Ctor(bytes.buffer, start, n)
      : new Ctor(bytes.buffer.slice(start, start + byteLength), 0, n);
  return { dtype, shape, data: data as TypedArrayOf<typeof dtype> };
}

export async function readNpy(path: string): Promise<NdArray> {
  const buf = await readFile(path);
  return parseNpy(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
