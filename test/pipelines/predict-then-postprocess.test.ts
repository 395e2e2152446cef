/**
 * The real chain: `bioimage-export predict` with the committed demo MTLSD bundle on a small raw
 * zarr, then `postprocess lsd` on its output. The affinity channels are found by the names predict
 * wrote; the segmentation equals segmentAffinities on those channels and keeps the voxel size.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { affinities, segmentAffinities } from '../../pipelines/index.js';
import { createVolume, ndarray, openVolume } from '../../runtime/index.js';
import { NEAREST_OFFSETS, ROOT, random, tempDir } from './helpers.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

test('predict (lsd-mtlsd-demo) → postprocess lsd', async () => {
  const dir = tempDir('chain');
  const shape = [24, 48, 48];
  const rnd = random(3);
  const raw = await createVolume(join(dir, 'raw.zarr'), {
    shape,
    chunks: [24, 48, 48],
    dtype: 'uint8',
    ome: { channelAxis: false, voxelSize: [8, 8, 8] },
  });
  await raw.write(
    [0, 0, 0],
    ndarray(
      'uint8',
      shape,
      Uint8Array.from({ length: 24 * 48 * 48 }, () => rnd() * 256),
    ),
  );
  const pred = join(dir, 'pred.zarr');
  const p = await cli([
    'predict',
    '-m',
    join(ROOT, 'weights/lsd-mtlsd-demo'),
    '-i',
    join(dir, 'raw.zarr'),
    '-o',
    pred,
    '-q',
  ]);
  expect(p.err).toBe('');
  expect(p.code).toBe(0);
  const seg = join(dir, 'seg.zarr');
  const r = await cli(['postprocess', 'lsd', '-i', pred, '-o', seg, '--min-seed-distance', '4', '-q']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  // the reference computation on the three aff_* channels of the prediction (the last three)
  const vol = await openVolume(pred);
  // predict names the channels in the group's omero metadata; postprocess found aff_* by them
  const group = readFileSync(join(pred, 'zarr.json'), 'utf8');
  expect(group).toContain('"aff_z1"');
  const c = vol.shape[0] as number;
  const n = 24 * 48 * 48;
  const affs = (await vol.read({ start: [c - 3, 0, 0, 0], stop: [c, 24, 48, 48] })).data as Float32Array;
  expect(affs.length).toBe(3 * n);
  const want = segmentAffinities(affinities([3, ...shape], Float32Array.from(affs), NEAREST_OFFSETS), {
    minSeedDistance: 4,
  });
  const out = await openVolume(seg);
  expect(out.placement?.scale).toEqual([8, 8, 8]);
  const got = (await out.read({ start: [0, 0, 0], stop: shape })).data as BigUint64Array;
  expect(Array.from(got, Number)).toEqual(Array.from(want.data));
  expect(r.out).toContain(`${new Set(want.data).size} segments`);
  rmSync(dir, { recursive: true, force: true });
});
