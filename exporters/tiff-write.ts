/**
 * Minimal baseline TIFF writer for float32 stacks, readable by ImageJ/Fiji (deepImageJ's sample
 * tensors) and by tifffile/imageio (bioimageio.core). No npm library writes float32 ImageJ
 * hyperstacks, so this is a ~100-line little-endian writer: one uncompressed strip per page, pages
 * in ImageJ's hyperstack order (channel fastest, then z), the ImageJ description on page one.
 */

export interface TiffStack {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly slices: number;
  readonly data: Float32Array; // C-order (channels, slices, height, width)
  readonly voxelNm?: { readonly z: number; readonly y: number; readonly x: number };
}

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const RATIONAL = 5;

type Tag = [code: number, type: number, values: number[] | string];

export function encodeTiff(s: TiffStack): Uint8Array {
  const pixels = s.width * s.height;
  const pages = s.channels * s.slices;
  if (s.data.length !== pixels * pages) {
    throw new TypeError(`encodeTiff: data has ${s.data.length} values, expected ${pixels * pages}`);
  }
  const lines = ['ImageJ=1.11a', `images=${pages}`];
  if (s.channels > 1) lines.push(`channels=${s.channels}`);
  if (s.slices > 1) lines.push(`slices=${s.slices}`);
  if (s.channels > 1 && s.slices > 1) lines.push('hyperstack=true');
  if (s.channels > 1) lines.push('mode=grayscale');
  if (s.voxelNm !== undefined) lines.push('unit=nm', `spacing=${s.voxelNm.z}`);
  lines.push('loop=false');
  const description = `${lines.join('\n')}\n`;

  const ifdSize = (n: number) => 2 + 12 * n + 4;
  const tagsFor = (page: number, dataOffset: number, extOffset: number): { tags: Tag[]; ext: number } => {
    let ext = extOffset;
    const tags: Tag[] = [
      [256, LONG, [s.width]],
      [257, LONG, [s.height]],
      [258, SHORT, [32]],
      [259, SHORT, [1]],
      [262, SHORT, [1]],
    ];
    if (page === 0) tags.push([270, ASCII, description]);
    tags.push(
      [273, LONG, [dataOffset]],
      [277, SHORT, [1]],
      [278, LONG, [s.height]],
      [279, LONG, [pixels * 4]],
    );
    if (s.voxelNm !== undefined) {
      // pixels per unit as a rational with a fixed denominator, so the result is exact for whole nm
      tags.push([282, RATIONAL, [1_000_000, Math.round(s.voxelNm.x * 1_000_000)]]);
      tags.push([283, RATIONAL, [1_000_000, Math.round(s.voxelNm.y * 1_000_000)]]);
      tags.push([296, SHORT, [1]]);
    }
    tags.push([339, SHORT, [3]]);
    for (const t of tags) ext += outOfLineBytes(t);
    return { tags, ext };
  };

  // Layout: header | pixel data of every page | per page: IFD then its out-of-line values.
  const dataStart = 8;
  let cursor = dataStart + pixels * 4 * pages;
  const plan: { tags: Tag[]; ifd: number; ext: number }[] = [];
  for (let p = 0; p < pages; p++) {
    cursor += cursor % 2;
    const ifd = cursor;
    const provisional = tagsFor(p, dataStart + p * pixels * 4, 0);
    const ext = ifd + ifdSize(provisional.tags.length);
    const { tags, ext: end } = tagsFor(p, dataStart + p * pixels * 4, ext);
    plan.push({ tags, ifd, ext });
    cursor = end;
  }
  const out = new Uint8Array(cursor);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49], 0); // "II": little-endian
  dv.setUint16(2, 42, true);
  dv.setUint32(4, plan[0]?.ifd ?? 0, true);
  out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength), dataStart);

  plan.forEach(({ tags, ifd, ext }, p) => {
    let o = ifd;
    let e = ext;
    dv.setUint16(o, tags.length, true);
    o += 2;
    for (const [code, type, values] of tags) {
      const count =
        typeof values === 'string'
          ? values.length + 1
          : type === RATIONAL
            ? values.length / 2
            : values.length;
      dv.setUint16(o, code, true);
      dv.setUint16(o + 2, type, true);
      dv.setUint32(o + 4, count, true);
      const bytes = outOfLineBytes([code, type, values]);
      const target = bytes > 0 ? e : o + 8;
      if (bytes > 0) dv.setUint32(o + 8, e, true);
      writeValues(dv, out, target, type, values);
      e += bytes;
      o += 12;
    }
    dv.setUint32(o, plan[p + 1]?.ifd ?? 0, true);
  });
  return out;
}

function valueBytes([, type, values]: Tag): number {
  if (typeof values === 'string') return values.length + 1;
  return values.length * (type === SHORT ? 2 : 4);
}

function outOfLineBytes(t: Tag): number {
  const n = valueBytes(t);
  return n <= 4 ? 0 : n + (n % 2);
}

function writeValues(
  dv: DataView,
  out: Uint8Array,
  at: number,
  type: number,
  values: number[] | string,
): void {
  if (typeof values === 'string') {
    for (let i = 0; i < values.length; i++) out[at + i] = values.charCodeAt(i) & 0x7f;
    out[at + values.length] = 0;
    return;
  }
  values.forEach((v, i) => {
    if (type === SHORT) dv.setUint16(at + 2 * i, v, true);
    else dv.setUint32(at + 4 * i, v, true);
  });
}
