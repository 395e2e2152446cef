/**
 * cover.png (2:1): the middle z slice of the test input next to the same region of the test output.
 * Dense outputs map their first three channels to R, G, B (one channel: grey); class outputs are drawn
 * as one bar per class. Nearest-neighbour scaling keeps voxels honest.
 */
import pngjs from 'pngjs';
import type { Float32Nd } from './npy.js';

const { PNG } = pngjs;
export const COVER_PANEL = 256; // each half is PANEL×PANEL, the cover PANEL·2 × PANEL

type Rgb = [number, number, number];
// ColorBrewer Dark2: eight colours that stay apart on a dark background
const BAR_COLOURS: Rgb[] = [
  [27, 158, 119],
  [217, 95, 2],
  [117, 112, 179],
  [231, 41, 138],
  [102, 166, 30],
  [230, 171, 2],
  [166, 118, 29],
  [190, 190, 190],
];

interface Slice {
  readonly h: number;
  readonly w: number;
  readonly channels: Float32Array[]; // each h·w in [0, 1]; NaN = outside the output's footprint
}

/** Channels of the middle z plane of a (1, C, Z, Y, X) tensor, cut to `win` = [y0, x0, h, w] (may stick out). */
function middleSlice(
  t: Float32Nd,
  channels: number[],
  win: readonly [number, number, number, number],
): Slice {
  const [, , Z, Y, X] = t.shape as [number, number, number, number, number];
  const z = Math.floor(Z / 2);
  const [y0, x0, h, w] = win;
  const out = channels.map((c) => {
    const plane = new Float32Array(h * w).fill(Number.NaN);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = y + y0;
        const sx = x + x0;
        if (sy >= 0 && sy < Y && sx >= 0 && sx < X)
          plane[y * w + x] = t.data[((c * Z + z) * Y + sy) * X + sx] as number;
      }
    return stretch(plane);
  });
  return { h, w, channels: out };
}

/** Linear min–max stretch to [0, 1] over the finite values (a flat plane becomes mid grey). */
function stretch(a: Float32Array): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo;
  return a.map((v) => (Number.isNaN(v) ? v : span > 0 ? (v - lo) / span : 0.5));
}

/** Paints a slice; NaN pixels of `s` show `under` (the input) dimmed instead. */
function paint(rgba: Buffer, W: number, x0: number, s: Slice, under?: Slice): void {
  const scale = Math.min(COVER_PANEL / s.w, COVER_PANEL / s.h);
  const dw = Math.round(s.w * scale);
  const dh = Math.round(s.h * scale);
  const ox = x0 + Math.floor((COVER_PANEL - dw) / 2);
  const oy = Math.floor((COVER_PANEL - dh) / 2);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(s.h - 1, Math.floor(y / scale));
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(s.w - 1, Math.floor(x / scale));
      const k = sy * s.w + sx;
      let v = s.channels.map((ch) => ch[k] as number);
      if (Number.isNaN(v[0] as number)) {
        const g = under?.channels[0]?.[k] ?? Number.NaN;
        v = Number.isNaN(g) ? [0.1] : [0.1 + 0.3 * g];
      }
      const [r, g, b] = (v.length >= 3 ? v : [v[0], v[0], v[0]]).map((c) => Math.round(255 * (c as number)));
      const i = ((oy + y) * W + ox + x) * 4;
      rgba[i] = r as number;
      rgba[i + 1] = g as number;
      rgba[i + 2] = b as number;
    }
  }
}

function paintBars(rgba: Buffer, W: number, x0: number, probs: Float32Array): void {
  const n = probs.length;
  const margin = 24;
  const slot = (COVER_PANEL - 2 * margin) / n;
  for (let c = 0; c < n; c++) {
    const colour = BAR_COLOURS[c % BAR_COLOURS.length] as Rgb;
    const top = Math.round(
      margin + (COVER_PANEL - 2 * margin) * (1 - Math.max(0, Math.min(1, probs[c] as number))),
    );
    const left = Math.round(x0 + margin + c * slot + slot * 0.15);
    const right = Math.round(x0 + margin + (c + 1) * slot - slot * 0.15);
    for (let y = top; y < COVER_PANEL - margin; y++)
      for (let x = left; x < right; x++) {
        const i = (y * W + x) * 4;
        [rgba[i], rgba[i + 1], rgba[i + 2]] = colour;
      }
  }
  // baseline
  for (let x = x0 + margin; x < x0 + COVER_PANEL - margin; x++) {
    const i = ((COVER_PANEL - margin) * W + x) * 4;
    rgba[i] = rgba[i + 1] = rgba[i + 2] = 200;
  }
}

/** Output channels shown as R, G, B: the first three affinity channels if any, else the first three. */
export function coverChannels(names: readonly string[]): number[] {
  const aff = names.flatMap((n, i) => (n.startsWith('aff') ? [i] : []));
  if (aff.length >= 3) return aff.slice(0, 3);
  return names.length >= 3 ? [0, 1, 2] : [0];
}

/**
 * Renders the cover. Dense: both halves show the same window around the output's footprint (with
 * some of the context the network sees): the input left, the output right over the dimmed input.
 */
export function renderCover(
  input: Float32Nd,
  output: Float32Nd,
  channelNames: readonly string[],
): Uint8Array {
  const W = 2 * COVER_PANEL;
  const png = new PNG({ width: W, height: COVER_PANEL, colorType: 2 });
  for (let i = 0; i < png.data.length; i += 4) {
    png.data[i] = png.data[i + 1] = png.data[i + 2] = 24;
    png.data[i + 3] = 255;
  }
  if (output.shape.length === 5) {
    const [, , , iy, ix] = input.shape as number[];
    const [, , , oy, ox] = output.shape as number[];
    const hy = ((iy as number) - (oy as number)) / 2;
    const hx = ((ix as number) - (ox as number)) / 2;
    const my = Math.min(hy, Math.max((oy as number) / 2, 4));
    const mx = Math.min(hx, Math.max((ox as number) / 2, 4));
    const inWin = [hy - my, hx - mx, (oy as number) + 2 * my, (ox as number) + 2 * mx] as const;
    const outWin = [-my, -mx, inWin[2], inWin[3]] as const;
    const raw = middleSlice(input, [0], inWin);
    paint(png.data, W, 0, raw);
    paint(png.data, W, COVER_PANEL, middleSlice(output, coverChannels(channelNames), outWin), raw);
  } else {
    paint(
      png.data,
      W,
      0,
      middleSlice(input, [0], [0, 0, input.shape[3] as number, input.shape[4] as number]),
    );
    paintBars(png.data, W, COVER_PANEL, output.data.subarray(0, output.shape[1] as number));
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 2 }));
}
