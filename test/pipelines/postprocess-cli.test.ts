/**
 * `bioimage-export postprocess` end to end on real zarr volumes laid out as `predict` writes them
 * (OME-Zarr v3, [c, z, y, x], channel names, voxel size and offset): outputs equal the library
 * called directly; errors carry their tag, hint and exit code.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import {
  affinities,
  extractPartners,
  neuronVotes,
  segmentAffinities,
  segmentationScores,
} from '../../pipelines/index.js';
import { createVolume, ndarray, openVolume, writeNpy } from '../../runtime/index.js';
import { affinitiesOf, NEAREST_OFFSETS, random, tempDir, voronoiLabels } from './helpers.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

const SHAPE = [12, 24, 24] as const;
const N = 12 * 24 * 24;
let dir: string;
let affs: Float32Array;

async function writePrediction(path: string, names: string[], data: Float32Array | Uint8Array) {
  const uint8 = data instanceof Uint8Array;
  const vol = await createVolume(path, {
    shape: [names.length, ...SHAPE],
    chunks: [1, 8, 16, 16],
    dtype: uint8 ? 'uint8' : 'float32',
    ome: { channelAxis: true, voxelSize: [40, 4, 4], translation: [400, 80, 120], channelNames: names },
  });
  await vol.write([0, 0, 0, 0], ndarray(uint8 ? 'uint8' : 'float32', [names.length, ...SHAPE], data));
}

beforeAll(async () => {
  dir = tempDir('cli');
  affs = affinitiesOf(voronoiLabels(SHAPE, 8, 5), SHAPE, 0.3, 6);
  // an MTLSD-like output: two LSD channels first, then the three affinities
  const data = new Float32Array(5 * N);
  data.fill(0.25, 0, 2 * N);
  data.set(affs, 2 * N);
  await writePrediction(
    join(dir, 'mtlsd.zarr'),
    ['lsd_offset_z', 'lsd_size', 'aff_z1', 'aff_y1', 'aff_x1'],
    data,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('postprocess lsd', () => {
  test('affinity channels found by name; the segmentation equals segmentAffinities, placed in nm', async () => {
    const out = join(dir, 'seg.zarr');
    const r = await cli([
      'postprocess',
      'lsd',
      '-i',
      join(dir, 'mtlsd.zarr'),
      '-o',
      out,
      '--min-seed-distance',
      '6',
    ]);
    expect(r.err).toContain('fragments');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*seg\.zarr: \d+ segments/);
    const vol = await openVolume(out);
    expect(vol.shape).toEqual([...SHAPE]);
    expect(vol.placement?.scale).toEqual([40, 4, 4]);
    expect(vol.placement?.translation).toEqual([400, 80, 120]);
    const got = await vol.read({ start: [0, 0, 0], stop: [...SHAPE] });
    const want = segmentAffinities(affinities([3, ...SHAPE], affs, NEAREST_OFFSETS), { minSeedDistance: 6 });
    expect(Array.from(got.data as BigUint64Array, Number)).toEqual(Array.from(want.data));
  });

  test('--gt scores the segmentation (VOI, adapted Rand) on stdout', async () => {
    const labels = voronoiLabels(SHAPE, 8, 5);
    const gtPath = join(dir, 'gt.zarr');
    const gt = await createVolume(gtPath, {
      shape: [...SHAPE],
      chunks: [...SHAPE],
      dtype: 'int32',
      ome: { channelAxis: false, voxelSize: [40, 4, 4] },
    });
    await gt.write([0, 0, 0], ndarray('int32', [...SHAPE], labels));
    const r = await cli([
      'postprocess',
      'lsd',
      '-i',
      join(dir, 'mtlsd.zarr'),
      '-o',
      join(dir, 'seg-gt.zarr'),
      '--gt',
      gtPath,
      '-q',
    ]);
    expect(r.code).toBe(0);
    const line = JSON.parse(r.out.split('\n')[0] as string);
    const seg = segmentAffinities(affinities([3, ...SHAPE], affs, NEAREST_OFFSETS));
    expect(line).toEqual({ gt: gtPath, ...segmentationScores(labels, seg.data) });
    expect(line.adapted_rand_error).toBeLessThan(0.5);
  });

  test('uint8 predictions are read as value / 255', async () => {
    const path = join(dir, 'u8.zarr');
    const u8 = Uint8Array.from(affs, (v) => Math.round(v * 255));
    await writePrediction(path, ['aff_z1', 'aff_y1', 'aff_x1'], u8);
    const r = await cli(['postprocess', 'lsd', '-i', path, '-o', join(dir, 'seg8.zarr'), '--no-fill', '-q']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const got = await (await openVolume(join(dir, 'seg8.zarr'))).read({ start: [0, 0, 0], stop: [...SHAPE] });
    const scaled = Float32Array.from(u8, (v) => v * (1 / 255));
    const want = segmentAffinities(affinities([3, ...SHAPE], scaled, NEAREST_OFFSETS), { fill: false });
    expect(Array.from(got.data as BigUint64Array, Number)).toEqual(Array.from(want.data));
  });

  test('a volume over the voxel budget is refused before reading, naming the limit and the flag', async () => {
    const r = await cli([
      'postprocess',
      'lsd',
      '-i',
      join(dir, 'mtlsd.zarr'),
      '-o',
      join(dir, 'x.zarr'),
      '--max-voxels',
      '1000',
    ]);
    expect(r.code).toBe(12);
    expect(r.err).toContain('[VolumeTooLarge]');
    expect(r.err).toContain('6,912 voxels, more than the budget of 1,000');
    expect(r.err).toContain('--max-voxels');
    expect(existsSync(join(dir, 'x.zarr'))).toBe(false);
  });

  test.each([
    [
      ['postprocess', 'segment', '-i', 'a.zarr', '-o', 'b.zarr'],
      11,
      "'segment' is not a post-processing task",
    ],
    [['postprocess', 'lsd', '-i', 'MISSING.zarr', '-o', 'b.zarr'], 2, '[Volume]'],
    [['postprocess', 'lsd', '-i', 'x.zarr', '-o', 'b.json'], 11, 'is not a .zarr path'],
    [
      ['postprocess', 'lsd', '-i', 'x.zarr', '-o', 'b.zarr', '--threshold', '2'],
      11,
      '--threshold: must be a number in [0, 1]',
    ],
  ])('bad input %j → exit %i', async (args, code, message) => {
    const r = await cli(args.map((a) => (a.endsWith('.zarr') && a !== 'MISSING.zarr' ? join(dir, a) : a)));
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
    expect(r.err).toContain('hint:');
  });

  test('affinities without the right offsets count', async () => {
    const r = await cli([
      'postprocess',
      'lsd',
      '-i',
      join(dir, 'mtlsd.zarr'),
      '-o',
      join(dir, 'y.zarr'),
      '--offsets',
      '-1,0,0',
    ]);
    expect(r.code).toBe(11);
    expect(r.err).toContain('1 offsets for 3 affinity channels');
  });
});

describe('postprocess micron', () => {
  test('tracks JSON: a bright line across the volume becomes one track, in nm', async () => {
    const data = new Float32Array(N);
    // soft mask peaking every 10 voxels along x at z 6, y 12: candidates x = 2, 12, 22 (SAME blocks
    // of 24 voxels start at −3)
    for (let x = 0; x < 24; x++) data[(6 * 24 + 12) * 24 + x] = 0.9 - 0.02 * Math.abs(((x + 3) % 10) - 5);
    const path = join(dir, 'mt.zarr');
    await writePrediction(path, ['soft_mask'], data);
    const out = join(dir, 'tracks.json');
    const r = await cli([
      'postprocess',
      'micron',
      '-i',
      path,
      '-o',
      out,
      '--max-edge-nm',
      '45',
      '--start-prior',
      '10',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('3 candidates, 2 edges');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.tracks).toEqual([
      {
        closed: false,
        points: [
          [640, 128, 128],
          [640, 128, 168],
          [640, 128, 208],
        ],
      },
    ]);
  });
});

describe('postprocess synful and synister', () => {
  test('partners JSON equals extractPartners with the prediction placement (nm)', async () => {
    const rnd = random(21);
    const data = new Float32Array(4 * N);
    for (let i = 0; i < N; i++) data[i] = rnd() < 0.02 ? 0.9 : rnd() * 0.3;
    for (let i = N; i < 4 * N; i++) data[i] = (rnd() - 0.5) * 200;
    const path = join(dir, 'syn.zarr');
    await writePrediction(path, ['syn_indicator', 'vector_z', 'vector_y', 'vector_x'], data);
    const out = join(dir, 'partners.json');
    const r = await cli(['postprocess', 'synful', '-i', path, '-o', out, '--threshold', '0.5']);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const want = extractPartners({ shape: [...SHAPE], data: data.subarray(0, N) }, data.subarray(N), {
      voxelSize: [40, 4, 4],
      offset: [400, 80, 120],
    });
    expect(want.length).toBeGreaterThan(20);
    expect(json.partners).toEqual(JSON.parse(JSON.stringify(want)));
    // scored against itself with one partner moved 500 nm away: 1 of n true partners unmatched
    // (a 1 nm matching distance: other predictions are ≥ 4 nm away, so only a partner's own twin matches)
    const truth = want.map((q, k) => ({
      post: k === 0 ? [q.post[0] + 500, q.post[1], q.post[2]] : q.post,
      pre: q.pre,
    }));
    writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth));
    const scored = await cli([
      'postprocess',
      'synful',
      '-i',
      path,
      '-o',
      join(dir, 'p2.json'),
      '--gt',
      join(dir, 'truth.json'),
      '--match-distance',
      '1',
    ]);
    expect(scored.code).toBe(0);
    const line = JSON.parse(scored.out.split('\n')[0] as string);
    expect([line.tp, line.fp, line.fn]).toEqual([want.length - 1, 1, 1]);
    expect(line.recall).toBeCloseTo((want.length - 1) / want.length, 12);
    // an existing output is not overwritten without --overwrite
    const again = await cli(['postprocess', 'synful', '-i', path, '-o', out]);
    expect(again.code).toBe(11);
    expect(again.err).toContain('already exists');
  });

  test('a uint8 prediction is refused for synful: its vectors are lost', async () => {
    const path = join(dir, 'syn8.zarr');
    await writePrediction(path, ['syn_indicator', 'vector_z', 'vector_y', 'vector_x'], new Uint8Array(4 * N));
    const r = await cli(['postprocess', 'synful', '-i', path, '-o', join(dir, 'p8.json')]);
    expect(r.code).toBe(11);
    expect(r.err).toContain('do not survive a uint8 prediction');
    expect(r.err).toContain('without --uint8');
  });

  test('per-neuron votes from .npy probabilities and neuron ids, with class names', async () => {
    const probs = Float32Array.from([0.7, 0.3, 0.6, 0.4, 0.1, 0.9, 0.2, 0.8]);
    await writeNpy(join(dir, 'p.npy'), ndarray('float32', [4, 2], probs));
    await writeNpy(join(dir, 'n.npy'), ndarray('int64', [4], BigInt64Array.from([5n, 5n, 5n, 9n])));
    const out = join(dir, 'neurons.json');
    const r = await cli([
      'postprocess',
      'synister',
      '-i',
      join(dir, 'p.npy'),
      '--neurons',
      join(dir, 'n.npy'),
      '-o',
      out,
      '--class-names',
      'gaba,acetylcholine',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    // neuron 5: sums (1.4, 1.6) → acetylcholine; neuron 9 → acetylcholine
    expect(json.neurons.map((v: { neuron: number; class: string }) => [v.neuron, v.class])).toEqual([
      [5, 'acetylcholine'],
      [9, 'acetylcholine'],
    ]);
    const rows = [
      [0.7, 0.3],
      [0.6, 0.4],
      [0.1, 0.9],
      [0.2, 0.8],
    ].map((r) => r.map(Math.fround));
    expect(json.neurons[0].summed).toEqual(neuronVotes(rows, [5, 5, 5, 9])[0]?.summed);
  });
});
