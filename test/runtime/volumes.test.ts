import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isRuntimeError } from '../../runtime/errors.js';
import { ndarray } from '../../runtime/tensors/ndarray.js';
import { readNpy } from '../../runtime/tensors/npy-read.js';
import { createVolume } from '../../runtime/volumes/create-volume.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES, withTempDir } from './helpers.js';

/** Reference slice of a C-order array (independent of the runtime's code). */
function crop(data: ArrayLike<number>, shape: number[], start: number[], stop: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rec = (axis: number, offset: number) => {
    for (let i = start[axis] as number; i < (stop[axis] as number); i++) {
      const o = offset + i * (strides[axis] as number);
      if (axis === shape.length - 1) out.push(data[o] as number);
      else rec(axis + 1, o);
    }
  };
  rec(0, 0);
  return out;
}

describe('reading zarr v2 written by zarr-python 2.18', () => {
  test.each([
    ['v2_u8_blosc', 'uint8', [3, 4, 5], [11, 16, 18]],
    ['v2_f32_zlib', 'float32', [1, 2, 3, 0], [2, 9, 7, 11]],
  ])('%s: whole array and a cross-chunk region equal the numpy copy', async (name, dtype, start, stop) => {
    const vol = await openVolume(join(FIXTURES, `${name}.zarr`));
    const want = await readNpy(join(FIXTURES, `${name}.npy`));
    expect(vol.dtype).toBe(dtype);
    expect(vol.shape).toEqual(want.shape);
    const all = await vol.read({ start: want.shape.map(() => 0), stop: want.shape });
    expect(Array.from(all.data as ArrayLike<number>)).toEqual(Array.from(want.data as ArrayLike<number>));
    const part = await vol.read({ start, stop });
    expect(part.shape).toEqual(stop.map((s, i) => s - (start[i] as number)));
    expect(Array.from(part.data as ArrayLike<number>)).toEqual(
      crop(want.data as ArrayLike<number>, [...want.shape], start, stop),
    );
  });

  test('attributes are exposed', async () => {
    const vol = await openVolume(join(FIXTURES, 'v2_u8_blosc.zarr'));
    expect(vol.attrs).toEqual({ resolution: [40, 4, 4] });
    expect(vol.chunks).toEqual([5, 6, 7]);
  });

  test('regions outside the array and missing stores are refused clearly', async () => {
    const vol = await openVolume(join(FIXTURES, 'v2_u8_blosc.zarr'));
    await expect(vol.read({ start: [0, 0, 0], stop: [14, 1, 1] })).rejects.toBeInstanceOf(TypeError);
    const err = await openVolume(join(FIXTURES, 'missing.zarr')).catch((e: unknown) => e);
    expect(isRuntimeError(err, 'Volume')).toBe(true);
    expect((err as { hint: string }).hint).toMatch(/zarr v2 or v3/);
  });
});

describe('reading over HTTP (FetchStore) from a loopback server', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const path = normalize(
        join(FIXTURES, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)),
      );
      if (!path.startsWith(FIXTURES)) return void res.writeHead(403).end();
      try {
        const body = await readFile(path);
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('a v2 array reads the same as from disk', async () => {
    const remote = await openVolume(`${base}/v2_f32_zlib.zarr`);
    const local = await openVolume(join(FIXTURES, 'v2_f32_zlib.zarr'));
    const region = { start: [0, 3, 1, 2], stop: [2, 8, 9, 10] };
    expect(remote.shape).toEqual(local.shape);
    expect((await remote.read(region)).data).toEqual((await local.read(region)).data);
  });

  test('a v3 OME-Zarr written here reads back over HTTP through the group', async () => {
    await withTempDir(async (dir) => {
      // A second server rooted at the temp dir, so the fixture folder stays clean.
      const out = join(dir, 'img.zarr');
      const w = await createVolume(out, {
        shape: [2, 4, 5, 6],
        chunks: [1, 2, 3, 4],
        dtype: 'uint8',
        ome: { channelAxis: true },
      });
      const block = ndarray('uint8', [2, 4, 5, 6]);
      block.data.forEach((_, i) => {
        block.data[i] = i % 251;
      });
      await w.write([0, 0, 0, 0], block);
      const srv = createServer(async (req, res) => {
        try {
          const body = await readFile(
            join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)),
          );
          res.writeHead(200).end(body);
        } catch {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/img.zarr`;
        const vol = await openVolume(url);
        expect(vol.shape).toEqual([2, 4, 5, 6]);
        const all = await vol.read({ start: [0, 0, 0, 0], stop: [2, 4, 5, 6] });
        expect(all.data).toEqual(block.data);
      } finally {
        await new Promise<void>((r) => srv.close(() => r()));
      }
    });
  });
});

describe('writing zarr v3 with OME-NGFF 0.5 metadata', () => {
  test.each(['zstd', 'blosc', 'lz4', 'none'] as const)(
    '%s: regions written are read back exactly',
    async (compressor) => {
      await withTempDir(async (dir) => {
        const out = join(dir, 'o.zarr');
        const w = await createVolume(out, {
          shape: [3, 7, 8, 9],
          chunks: [3, 4, 4, 4],
          dtype: 'float32',
          compressor,
          ome: {
            channelAxis: true,
            voxelSize: [40, 4, 4],
            translation: [400, 40, 40],
            channelNames: ['a', 'b', 'c'],
          },
        });
        const block = ndarray('float32', [3, 3, 5, 6]);
        block.data.forEach((_, i) => {
          block.data[i] = i * 0.5 - 7;
        });
        await w.write([0, 2, 1, 3], block);
        const vol = await openVolume(out);
        const back = await vol.read({ start: [0, 2, 1, 3], stop: [3, 5, 6, 9] });
        expect(back.data).toEqual(block.data);
        const untouched = await vol.read({ start: [0, 0, 0, 0], stop: [3, 2, 8, 9] });
        expect((untouched.data as Float32Array).every((v) => v === 0)).toBe(true);
      });
    },
  );

  test('group and array metadata follow zarr v3 and NGFF 0.5', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'o.zarr');
      await createVolume(out, {
        shape: [2, 10, 20, 30],
        chunks: [2, 5, 10, 10],
        dtype: 'uint8',
        compressor: 'blosc',
        ome: { channelAxis: true, voxelSize: [8, 8, 8], translation: [64, 64, 64], name: 'affs' },
        attributes: { emzoo: { model: 'x' } },
      });
      const group = JSON.parse(await readFile(join(out, 'zarr.json'), 'utf8'));
      expect(group.zarr_format).toBe(3);
      expect(group.node_type).toBe('group');
      expect(group.attributes.emzoo).toEqual({ model: 'x' });
      expect(group.attributes.ome).toEqual({
        version: '0.5',
        multiscales: [
          {
            name: 'affs',
            axes: [
              { name: 'c', type: 'channel' },
              { name: 'z', type: 'space', unit: 'nanometer' },
              { name: 'y', type: 'space', unit: 'nanometer' },
              { name: 'x', type: 'space', unit: 'nanometer' },
            ],
            datasets: [
              {
                path: '0',
                coordinateTransformations: [
                  { type: 'scale', scale: [1, 8, 8, 8] },
                  { type: 'translation', translation: [0, 64, 64, 64] },
                ],
              },
            ],
          },
        ],
      });
      const arr = JSON.parse(await readFile(join(out, '0', 'zarr.json'), 'utf8'));
      expect(arr).toMatchObject({
        zarr_format: 3,
        node_type: 'array',
        shape: [2, 10, 20, 30],
        data_type: 'uint8',
        chunk_grid: { name: 'regular', configuration: { chunk_shape: [2, 5, 10, 10] } },
        chunk_key_encoding: { name: 'default' },
        fill_value: 0,
        dimension_names: ['c', 'z', 'y', 'x'],
      });
      expect(arr.codecs.map((c: { name: string }) => c.name)).toEqual(['bytes', 'blosc']);
    });
  });

  test('an existing output is not overwritten unless asked', async () => {
    await withTempDir(async (dir) => {
      const opts = {
        shape: [4, 4, 4],
        chunks: [2, 2, 2],
        dtype: 'uint8' as const,
        ome: { channelAxis: false },
      };
      await createVolume(join(dir, 'o.zarr'), opts);
      const err = await createVolume(join(dir, 'o.zarr'), opts).catch((e: unknown) => e);
      expect(isRuntimeError(err, 'Volume')).toBe(true);
      await expect(createVolume(join(dir, 'o.zarr'), { ...opts, overwrite: true })).resolves.toBeDefined();
    });
  });
});
