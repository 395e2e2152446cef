/** Element types the runtime moves between .npy, zarr and onnxruntime. */
export const DTYPES = [
  'float32',
  'float16',
  'float64',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'uint32',
  'int64',
  'uint64',
] as const;
export type DType = (typeof DTYPES)[number];

export interface TypedArrayMap {
  float32: Float32Array;
  // Node 20 has no Float16Array: half floats travel as raw bits (onnxruntime-node does the same).
  float16: Uint16Array;
  float64: Float64Array;
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
}
export type TypedArrayOf<D extends DType> = TypedArrayMap[D];
export type AnyTypedArray = TypedArrayMap[DType];

type Ctor<D extends DType> = {
  new (length: number): TypedArrayOf<D>;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArrayOf<D>;
  readonly BYTES_PER_ELEMENT: number;
};

export const TYPED_ARRAY: { [D in DType]: Ctor<D> } = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

export function itemSize(dtype: DType): number {
  return TYPED_ARRAY[dtype].BYTES_PER_ELEMENT;
}

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}
