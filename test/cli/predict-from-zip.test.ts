/**
 * `predict --model <zip>` with the committed demo bundle (weights/lsd-mtlsd-demo) packaged by the
 * exporters: the output equals predicting from the bundle folder, and the cached model.onnx is the
 * bundle's. The same zip behind a 2.25 GiB sparse hole (central-directory offsets moved by the hole,
 * as in a self-extracting archive) is more than readFileSync may return; predict still works.
 */
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sha256FileChunked } from '../../cli/commands/model-source.js';
import { main } from '../../cli/main.js';
import { packageBundle } from '../../exporters/index.js';
import { createVolume, ndarray, openVolume } from '../../runtime/index.js';

const ROOT = join(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'weights/lsd-mtlsd-demo');
const SHAPE = [24, 48, 48] as const;
const HOLE = 2 ** 31 + 2 ** 28;

let dir: string;
let zip: string;
const cacheDirs: string[] = [];

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

/** predict's model cache folder for a zip (named by the zip's sha256), removed before and after. */
function cacheOf(path: string): string {
  const d = join(tmpdir(), `emzoo-model-${sha256FileChunked(path).slice(0, 16)}`);
  rmSync(d, { recursive: true, force: true });
  cacheDirs.push(d);
  return d;
}

async function predict(model: string, name: string): Promise<Float32Array> {
  const out = join(dir, name);
  const r = await cli(['predict', '-m', model, '-i', join(dir, 'raw.zarr'), '-o', out, '-q']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const vol = await openVolume(out);
  expect(vol.shape).toEqual([13, ...SHAPE]);
  return (await vol.read({ start: [0, 0, 0, 0], stop: [13, ...SHAPE] })).data as Float32Array;
}

/**
 * `src` with `hole` zero bytes (a sparse hole: no disk) in front, its central-directory entries'
 * local-header offsets and the end record's directory offset moved by `hole`. Classic 32-bit records
 * only: the packaged demo zip is small, and hole + its size stays below 4 GiB.
 */
function zipBehindHole(src: string, dst: string, hole: number): void {
  const z = readFileSync(src);
  let eocd = z.length - 22;
  while (eocd >= 0 && z.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  expect(eocd).toBeGreaterThanOrEqual(0);
  const count = z.readUInt16LE(eocd + 10);
  const cdOffset = z.readUInt32LE(eocd + 16);
  expect(cdOffset + hole + z.length).toBeLessThan(2 ** 32 - 1);
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    expect(z.readUInt32LE(p)).toBe(0x02014b50);
    const local = z.readUInt32LE(p + 42);
    expect(local).not.toBe(0xffff_ffff); // no zip64 offsets in a small package
    z.writeUInt32LE(local + hole, p + 42);
    p += 46 + z.readUInt16LE(p + 28) + z.readUInt16LE(p + 30) + z.readUInt16LE(p + 32);
  }
  z.writeUInt32LE(cdOffset + hole, eocd + 16);
  const fd = openSync(dst, 'w');
  try {
    ftruncateSync(fd, hole);
    writeSync(fd, z, 0, z.length, hole);
  } finally {
    closeSync(fd);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emzoo-predict-zip-'));
  zip = (await packageBundle(BUNDLE, { outDir: join(dir, 'dist'), profiles: ['ilastik', 'fiji'] })).zipPath;
  // seeded noise (LCG), 8 nm isotropic like the demo bundle
  let s = 12345;
  const raw = Uint8Array.from({ length: SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
  const vol = await createVolume(join(dir, 'raw.zarr'), {
    shape: [...SHAPE],
    chunks: [...SHAPE],
    dtype: 'uint8',
    ome: { channelAxis: false, voxelSize: [8, 8, 8] },
  });
  await vol.write([0, 0, 0], ndarray('uint8', [...SHAPE], raw));
});

afterAll(() => {
  for (const d of cacheDirs) rmSync(d, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('predict from the packaged demo zip equals predict from the bundle folder', async () => {
  const fromBundle = await predict(BUNDLE, 'bundle.zarr');
  const cache = cacheOf(zip);
  const fromZip = await predict(zip, 'zip.zarr');
  expect(readFileSync(join(cache, 'model.onnx')).equals(readFileSync(join(BUNDLE, 'model.onnx')))).toBe(true);
  expect(fromZip).toEqual(fromBundle);
  // a second run finds model.onnx in the cache and gives the same
  expect(await predict(zip, 'zip-again.zarr')).toEqual(fromBundle);
});

test('a zip past 2 GiB (the demo zip behind a sparse hole) predicts like the bundle folder', async () => {
  const big = join(dir, 'big.zip');
  zipBehindHole(zip, big, HOLE);
  expect(statSync(big).size).toBeGreaterThan(2 ** 31);
  const cache = cacheOf(big);
  const fromBig = await predict(big, 'big.zarr');
  expect(existsSync(join(cache, 'model.onnx'))).toBe(true);
  expect(readFileSync(join(cache, 'model.onnx')).equals(readFileSync(join(BUNDLE, 'model.onnx')))).toBe(true);
  expect(fromBig).toEqual(await predict(BUNDLE, 'bundle-2.zarr'));
}, 120_000);
