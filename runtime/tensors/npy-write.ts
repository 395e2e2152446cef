import { writeFile } from 'node:fs/promises';
import type { DType } from './dtype.js';
import { type NdArray, sizeOf } from './ndarray.js';
import { DESCR_OF, NPY_MAGIC } from './npy-format.js';

/** Encodes an array as NPY v1.0 (v2.0 if the header would exceed 65535 bytes), header padded to 64 bytes. */
export function encodeNpy(arr: NdArray): Uint8Array {
  const { dtype, shape, data } = arr;
  if (data.length !== sizeOf(shape)) {
    throw new TypeError(`'arr.data' has ${data.length} elements but shape [${shape}] needs ${sizeOf(shape)}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR_OF[dtype as DType]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let prefix = 10;
  let total = prefix + dict.length + 1;
  if (total + ((64 - (total % 64)) % 64) - prefix > 0xffff) {
    prefix = 12;
    total = prefix + dict.length + 1;
  }
  const headerLen = total + ((64 - (total % 64)) % 64) - prefix;
  const header = `${dict.padEnd(headerLen - 1, ' ')}\n`;
  const out = new Uint8Array(prefix + headerLen + data.byteLength);
  out.set(NPY_MAGIC, 0);
  const view = new DataView(out.buffer);
  if (prefix === 10) {
    out[6] = 1;
    view.setUint16(8, headerLen, true);
  } else {
    out[6] = 2;
    view.setUint32(8, headerLen, true);
  }
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + headerLen);
  return out;
}

export async function writeNpy(path: string, arr: NdArray): Promise<void> {
  await writeFile(path, encodeNpy(arr));
}
