import { type NdArray, sizeOf, stridesOf } from '../tensors/ndarray.js';
import type { Volume } from './open-volume.js';
import { checkRegion } from './open-volume.js';
import { regionShape } from './region.js';

/** An in-memory array as a read-only Volume, so tensors (e.g. from an HTTP request) tile like zarr volumes. */
export function arrayVolume(arr: NdArray, location = '<memory>'): Volume {
  const strides = stridesOf(arr.shape);
  return {
    location,
    shape: arr.shape,
    chunks: arr.shape,
    dtype: arr.dtype,
    attrs: {},
    async read(region) {
      checkRegion(location, arr.shape, region);
      const shape = regionShape(region);
      const Ctor = arr.data.constructor as new (n: number) => NdArray['data'];
      const out = new Ctor(sizeOf(shape));
      const last = shape.length - 1;
      let k = 0;
      const rec = (axis: number, base: number) => {
        const from = base + (region.start[axis] as number) * (strides[axis] as number);
        if (axis === last) {
          const len = shape[last] as number;
          (out as { set(a: ArrayLike<unknown>, o: number): void }).set(
            arr.data.subarray(from, from + len),
            k,
          );
          k += len;
          return;
        }
        for (let i = 0; i < (shape[axis] as number); i++) rec(axis + 1, from + i * (strides[axis] as number));
      };
      if (shape.every((d) => d > 0)) rec(0, 0);
      return { dtype: arr.dtype, shape, data: out };
    },
  };
}
