/** Test-side writers for sample images: uncompressed float32 TIFF (plain or ImageJ) and PNG. */

import { PNG } from 'pngjs';

export interface TiffOptions {
  /** ImageJ hyperstack description (pages = channels × slices × frames, channel fastest). */
  imagej?: { channels?: number; slices?: number; frames?: number };
}

/** pages × height × width float32 pixels, one strip per page. */
export function writeTiff(
  pages: number,
  height: number,
  width: number,
  values: ArrayLike<number>,
  opts: TiffOptions = {},
): Uint8Array {
  const desc = opts.imagej
    ? `${['ImageJ=1.11a', `images=${pages}`, ...(opts.imagej.channels ? [`channels=${opts.imagej.channels}`] : []), ...(opts.imagej.slices ? [`slices=${opts.imagej.slices}`] : []), ...(opts.imagej.frames ? [`frames=${opts.imagej.frames}`] : []), 'hyperstack=true', 'mode=grayscale'].join('\n')}\n\0`
    : undefined;
  const pageBytes = height * width * 4;
  const nTags = desc ? 11 : 10;
  const ifdSize = 2 + 12 * nTags + 4;
  const descBytes = desc ? new TextEncoder().encode(desc) : new Uint8Array();
  const total = 8 + descBytes.length + pages * (pageBytes + ifdSize);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49]);
  v.setUint16(2, 42, true);
  out.set(descBytes, 8);
  let pos = 8 + descBytes.length;
  const descAt = 8;
  v.setUint32(4, pos + pageBytes, true);
  for (let p = 0; p < pages; p++) {
    const dataAt = pos;
    for (let i = 0; i < height * width; i++)
      v.setFloat32(dataAt + 4 * i, values[p * height * width + i] as number, true);
    pos += pageBytes;
    const ifd = pos;
    const tags: [number, number, number, number][] = [
      [256, 4, 1, width],
      [257, 4, 1, height],
      [258, 3, 1, 32],
      [259, 3, 1, 1],
      [262, 3, 1, 1],
      ...(desc && p === 0
        ? ([[270, 2, descBytes.length, descAt]] as [number, number, number, number][])
        : []),
      [273, 4, 1, dataAt],
      [277, 3, 1, 1],
      [278, 4, 1, height],
      [279, 4, 1, pageBytes],
      [339, 3, 1, 3],
    ];
    v.setUint16(ifd, tags.length, true);
    tags.forEach(([tag, type, count, value], k) => {
      const e = ifd + 2 + 12 * k;
      v.setUint16(e, tag, true);
      v.setUint16(e + 2, type, true);
      v.setUint32(e + 4, count, true);
      if (type === 3) v.setUint16(e + 8, value, true);
      else v.setUint32(e + 8, value, true);
    });
    const next = p + 1 < pages ? ifd + 2 + 12 * tags.length + 4 + pageBytes : 0;
    v.setUint32(ifd + 2 + 12 * tags.length, next, true);
    pos = ifd + 2 + 12 * tags.length + 4;
  }
  return out.subarray(0, pos);
}

export function writePng(height: number, width: number, channels: 1 | 3 | 4): Uint8Array {
  const png = new PNG({
    width,
    height,
    colorType: channels === 1 ? 0 : channels === 3 ? 2 : 6,
    inputColorType: 6,
    inputHasAlpha: true,
  });
  for (let i = 0; i < width * height; i++)
    png.data.set([(i * 7) % 256, (i * 3) % 256, (i * 5) % 256, 255], 4 * i);
  return new Uint8Array(
    PNG.sync.write(png, { colorType: channels === 1 ? 0 : channels === 3 ? 2 : 6, inputColorType: 6 }),
  );
}
