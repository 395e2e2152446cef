import type { DType } from './dtype.js';

/** NPY magic string `\x93NUMPY`. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] as const;

/** numpy descr (little-endian or byte-order-free) for each dtype we read and write. */
export const DESCR_OF: { [D in DType]: string } = {
  float32: '<f4',
  float16: '<f2',
  float64: '<f8',
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
};

/** descr → dtype; '<' and '|' (and '=' on our little-endian hosts) are accepted for each. */
export const DTYPE_OF_DESCR: ReadonlyMap<string, DType> = new Map(
  Object.entries(DESCR_OF).flatMap(([dtype, descr]) => {
    const code = descr.slice(1);
    return ['<', '|', '='].map((order) => [`${order}${code}`, dtype as DType] as const);
  }),
);
