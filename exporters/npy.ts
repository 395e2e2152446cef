/**
 * The exporter's view of .npy tensors: float32 C-order arrays, read and written with runtime/'s
 * npy codec. Every tensor we package is float32 (bundle.yaml says so); others are refused.
 */
import { encodeNpy as encodeRuntime, type NdArray, parseNpy as parseRuntime } from '../runtime/index.js';

export type Float32Nd = NdArray<'float32'>;

export function parseNpy(bytes: Uint8Array, what = '.npy file'): Float32Nd {
  const arr = parseRuntime(bytes, what);
  if (arr.dtype !== 'float32') throw new TypeError(`${what}: dtype ${arr.dtype}, expected float32`);
  return arr as Float32Nd;
}

export function float32(shape: readonly number[], data: Float32Array): Float32Nd {
  return { dtype: 'float32', shape: [...shape], data };
}

export function encodeNpy(arr: Float32Nd): Uint8Array {
  return encodeRuntime(arr);
}
