/**
 * The dimensions bioimageio.spec sees when it decodes a sample tensor with imageio (tifffile for
 * .tif, pillow for .png), read from headers only: enough for its rank check after `squeeze()`.
 * TIFF: classic TIFF pages, an ImageJ hyperstack description (images/channels/slices/frames) or a
 * tifffile JSON description ({"shape": [...]}) give the leading dimensions. PNG: IHDR.
 * Unreadable files are a finding (`ImageProblem`), not a thrown error.
 */

export class ImageProblem extends Error {
  override readonly name = 'ImageProblem';
}

function fail(message: string): never {
  throw new ImageProblem(message);
}

export function tiffDims(bytes: Uint8Array): number[] {
  if (bytes.length < 8) fail('TIFF file too short');
  const order = String.fromCharCode(bytes[0] as number, bytes[1] as number);
  if (order !== 'II' && order !== 'MM') fail('not a TIFF file (bad byte-order mark)');
  const le = order === 'II';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(2, le);
  if (magic === 43) fail('BigTIFF sample tensors are not supported by this reader');
  if (magic !== 42) fail(`not a TIFF file (magic ${magic})`);
  const u16 = (o: number) => (o + 2 <= bytes.length ? view.getUint16(o, le) : fail('TIFF truncated'));
  const u32 = (o: number) => (o + 4 <= bytes.length ? view.getUint32(o, le) : fail('TIFF truncated'));

  let offset = u32(4);
  let pages = 0;
  let width = 0;
  let height = 0;
  let samples = 1;
  let description: string | undefined;
  const seen = new Set<number>();
  while (offset !== 0) {
    if (seen.has(offset) || pages > 1_000_000) fail('TIFF IFD chain loops');
    seen.add(offset);
    const n = u16(offset);
    if (pages === 0) {
      for (let i = 0; i < n; i++) {
        const e = offset + 2 + 12 * i;
        const tag = u16(e);
        const type = u16(e + 2);
        const count = u32(e + 4);
        const value = type === 3 ? u16(e + 8) : u32(e + 8);
        if (tag === 256) width = value;
        else if (tag === 257) height = value;
        else if (tag === 277) samples = value;
        else if (tag === 270 && type === 2) {
          const at = count <= 4 ? e + 8 : u32(e + 8);
          if (at + count > bytes.length) fail('TIFF description runs past the end');
          description = new TextDecoder('latin1').decode(bytes.subarray(at, at + count)).replace(/\0+$/, '');
        }
      }
    }
    pages++;
    offset = u32(offset + 2 + 12 * n);
  }
  if (width === 0 || height === 0) fail('TIFF first page has no ImageWidth/ImageLength');

  const shaped = description?.startsWith('{') ? parseShape(description) : undefined;
  if (shaped) return shaped;
  if (description?.startsWith('ImageJ=')) {
    const field = (k: string) =>
      Number(new RegExp(`^${k}=(\\d+)`, 'm').exec(description as string)?.[1] ?? 1);
    return [field('frames'), field('slices'), field('channels'), height, width, samples];
  }
  return [pages, height, width, samples];
}

function parseShape(description: string): number[] | undefined {
  try {
    const shape = (JSON.parse(description) as { shape?: unknown }).shape;
    return Array.isArray(shape) && shape.every((d) => Number.isInteger(d)) ? (shape as number[]) : undefined;
  } catch {
    return undefined;
  }
}

export function pngDims(bytes: Uint8Array): number[] {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 26 || sig.some((b, i) => bytes[i] !== b)) fail('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // colour type → channels as pillow/imageio return them (a palette becomes RGB).
  const channels = ({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 } as Record<number, number>)[bytes[25] as number];
  if (channels === undefined) fail(`PNG colour type ${bytes[25]} is invalid`);
  return [height, width, channels];
}

export type ImageDims = { readonly dims: number[] } | { readonly problem: string } | undefined;

/** Dimensions of a sample image by file suffix; undefined for formats not read here. */
export function imageDims(name: string, bytes: Uint8Array): ImageDims {
  const n = name.toLowerCase();
  try {
    if (n.endsWith('.tif') || n.endsWith('.tiff')) return { dims: tiffDims(bytes) };
    if (n.endsWith('.png')) return { dims: pngDims(bytes) };
  } catch (e) {
    if (e instanceof ImageProblem) return { problem: e.message };
    throw e;
  }
  return undefined;
}
