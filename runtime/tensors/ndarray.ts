import { type DType, TYPED_ARRAY, type TypedArrayOf } from './dtype.js';

/** A dense C-order array: the one tensor value the runtime passes around (no onnxruntime types leak). */
export interface NdArray<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayOf<D>;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** C-order strides in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

export function ndarray<D extends DType>(
  dtype: D,
  shape: readonly number[],
  data?: TypedArrayOf<D>,
): NdArray<D> {
  const n = sizeOf(shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new TypeError(`'shape' must hold non-negative integers, got [${shape}]`);
  }
  const arr = data ?? (new TYPED_ARRAY[dtype](n) as TypedArrayOf<D>);
  if (arr.length !== n)
    throw new TypeError(`'data' has ${arr.length} elements but shape [${shape}] needs ${n}`);
  return { dtype, shape: [...shape], data: arr };
}
