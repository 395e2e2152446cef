import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { decode as decodeTiff } from 'tiff';
import { describe, expect, it } from 'vitest';
import { encodeTiff, type Float32Nd, renderCover, tensorToTiff } from '../../exporters/index.js';
import { ROOT, tempDir } from './bundles.js';

const f32 = (shape: number[], f: (i: number) => number): Float32Nd => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
};

// a raw volume with a bright left half, and a 3-channel output that is red / green / blue by region
const input = f32([1, 1, 6, 24, 24], (i) => (i % 24 < 12 ? 200 : 40));
const output = f32([1, 3, 2, 16, 16], (i) => {
  const c = Math.floor(i / (2 * 16 * 16));
  const x = i % 16;
  return c === 0 ? (x < 8 ? 1 : 0) : c === 1 ? (x < 8 ? 0 : 1) : 0.5;
});

describe('cover.png', () => {
  const png = pngjs.PNG.sync.read(Buffer.from(renderCover(input, output, ['aff_z', 'aff_y', 'aff_x'])));
  const px = (x: number, y: number) =>
    Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));

  it('is a 2:1 PNG under 500 KB', () => {
    const bytes = renderCover(input, output, ['a', 'b', 'c']);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(bytes.length).toBeLessThan(500 * 1024);
    expect(png.width).toBe(2 * png.height);
  });

  it('shows the input in grey on the left and the output in colour on the right', () => {
    const h = png.height;
    // left half: grey, bright where the input is bright (x < 12 of the 24-wide input, centred window)
    const leftBright = px(Math.floor(h * 0.3), Math.floor(h / 2));
    const leftDark = px(Math.floor(h * 0.7), Math.floor(h / 2));
    expect(leftBright[0]).toBe(leftBright[1]);
    expect(leftBright[0]).toBeGreaterThan(leftDark[0] as number);
    // right half: channel 0 (red) on the left of the output, channel 1 (green) on the right
    const rightA = px(h + Math.floor(h * 0.4), Math.floor(h / 2));
    const rightB = px(h + Math.floor(h * 0.6), Math.floor(h / 2));
    expect((rightA[0] as number) > (rightA[1] as number)).toBe(true);
    expect((rightB[1] as number) > (rightB[0] as number)).toBe(true);
  });

  it('draws one bar per class for class outputs', () => {
    const cls = f32([1, 3], (i) => [0.1, 0.7, 0.2][i] as number);
    const p = pngjs.PNG.sync.read(Buffer.from(renderCover(input, cls, ['a', 'b', 'c'])));
    expect(p.width).toBe(2 * p.height);
    // the tallest bar (class 1) reaches higher than the shortest (class 0): count coloured pixels per column band
    const colHeight = (x: number) => {
      let n = 0;
      for (let y = 0; y < p.height; y++) {
        const i = (y * p.width + x) * 4;
        if (p.data[i] !== p.data[i + 1] || p.data[i] !== p.data[i + 2]) n++;
      }
      return n;
    };
    const slot = (p.height - 48) / 3;
    const centre = (c: number) => Math.round(p.height + 24 + (c + 0.5) * slot);
    expect(colHeight(centre(1))).toBeGreaterThan(colHeight(centre(2)));
    expect(colHeight(centre(2))).toBeGreaterThan(colHeight(centre(0)));
  });
});

describe('sample TIFFs', () => {
  it('round-trip a float32 stack through an independent TIFF decoder', () => {
    const data = Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => i * 0.5 - 3);
    const pages = decodeTiff(
      encodeTiff({ width: 7, height: 5, channels: 1, slices: 3, data, voxelNm: { z: 40, y: 4, x: 4 } }),
    );
    expect(pages.length).toBe(3);
    pages.forEach((p, z) => {
      expect([p.width, p.height, p.bitsPerSample]).toEqual([7, 5, 32]);
      expect(Array.from(p.data as Float32Array)).toEqual(Array.from(data.subarray(z * 35, (z + 1) * 35)));
    });
    expect(String(pages[0]?.get(270))).toContain('images=3');
  });

  it('write a (1, C, Z, Y, X) tensor as an ImageJ hyperstack tifffile reads as ZCYX', () => {
    const t = f32([1, 2, 3, 4, 5], (i) => i);
    const dir = tempDir();
    const path = join(dir, 'sample.tif');
    writeFileSync(path, tensorToTiff(t, [40, 4, 4]));
    const script =
      'import sys, json, numpy as np, tifffile\n' +
      'f = tifffile.TiffFile(sys.argv[1]); a = f.asarray()\n' +
      'print(json.dumps({"axes": f.series[0].axes, "shape": list(a.shape), "dtype": str(a.dtype), "imagej": f.is_imagej,\n' +
      '  "equal": bool(np.array_equal(a, np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5).transpose(1, 0, 2, 3)))}))';
    const out = JSON.parse(
      execFileSync(join(ROOT, '.venv/bin/python'), ['-c', script, path], { encoding: 'utf8' }),
    );
    expect(out).toEqual({ axes: 'ZCYX', shape: [3, 2, 4, 5], dtype: 'float32', imagej: true, equal: true });
  });

  it('write a class output (1, C) as a one-row image', () => {
    const pages = decodeTiff(tensorToTiff(f32([1, 6], (i) => i / 10)));
    expect(pages.length).toBe(1);
    expect([pages[0]?.width, pages[0]?.height]).toEqual([6, 1]);
    expect(Array.from(pages[0]?.data as Float32Array)).toEqual(
      Array.from(Float32Array.from([0, 1, 2, 3, 4, 5], (v) => v / 10)),
    );
  });
});
