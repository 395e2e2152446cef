/**
 * Test tensors → sample_input.tif / sample_output.tif for deepImageJ: (1, C, Z, Y, X) becomes an
 * ImageJ hyperstack of Z slices × C channels; a class output (1, C) becomes a 1-pixel-high row of C values.
 */
import type { Float32Nd } from './npy.js';
import { encodeTiff } from './tiff-write.js';

export function tensorToTiff(t: Float32Nd, voxelNm?: readonly [number, number, number]): Uint8Array {
  if (t.shape.length === 2) {
    return encodeTiff({ width: t.shape[1] as number, height: 1, channels: 1, slices: 1, data: t.data });
  }
  const [, C, Z, Y, X] = t.shape as [number, number, number, number, number];
  const plane = Y * X;
  const data = new Float32Array(t.data.length);
  // (C, Z, Y, X) → pages in ImageJ order: z-major, channel-minor
  for (let z = 0; z < Z; z++)
    for (let c = 0; c < C; c++)
      data.set(t.data.subarray((c * Z + z) * plane, (c * Z + z + 1) * plane), (z * C + c) * plane);
  return encodeTiff({
    width: X,
    height: Y,
    channels: C,
    slices: Z,
    data,
    ...(voxelNm !== undefined ? { voxelNm: { z: voxelNm[0], y: voxelNm[1], x: voxelNm[2] } } : {}),
  });
}
