/**
 * `bioimage-export predict` on real zarr volumes with the real exported bundle: output equals one
 * onnxruntime pass over the whole (zero-padded) volume; a run killed mid-way resumes; ROI, uint8,
 * zip models; voxel size / axes / flag errors with their exit codes.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { packageBundle } from '../../exporters/index.js';
import { createVolume } from '../../runtime/index.js';
import {
  LSD,
  maxAbsDiff,
  python,
  ROOT,
  readOutput,
  singlePass,
  workspace,
  writeRawZarr,
} from '../server/helpers.js';

let ws: ReturnType<typeof workspace>;
let bundle: string;
let vol: Uint8Array;
const SHAPE = [24, 40, 40];

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  ws = workspace();
  bundle = join(ws.weights, LSD);
  vol = await writeRawZarr(join(ws.data, 'raw.zarr'), SHAPE, [8, 8, 8], 11);
});

/** The ROI [[z0,z1],[y0,y1],[x0,x1]] of the SHAPE volume, C order. */
function cropOf(v: Uint8Array, roi: number[][]): Uint8Array {
  const [[z0, z1], [y0, y1], [x0, x1]] = roi as [[number, number], [number, number], [number, number]];
  const out = new Uint8Array((z1 - z0) * (y1 - y0) * (x1 - x0));
  let k = 0;
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++)
        out[k++] = v[(z * (SHAPE[1] as number) + y) * (SHAPE[2] as number) + x] as number;
  return out;
}

describe('predict', () => {
  test('a killed run resumes; the output equals one onnxruntime pass', async () => {
    const output = join(ws.data, 'pred.zarr');
    const args = [
      'predict',
      '--model',
      bundle,
      '--input',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '--output',
      output,
      '--block',
      '48,48,48',
    ];
    // First run as a child process, killed (SIGKILL: no clean-up) once some blocks are written.
    const child = spawn(process.execPath, [join(ROOT, 'bin/bioimage-export.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const done = [...err.matchAll(/\] (\d+)\/75 blocks/g)].map((m) => Number(m[1]));
        if ((done.at(-1) ?? 0) >= 8) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`predict finished before it could be killed: ${err}`)));
    });
    await new Promise((r) => child.once('exit', r));
    const r = await cli([...args, '--quiet']);
    expect(r.code, r.err).toBe(0);
    const m = /75 blocks of \[48,48,48\] \((\d+) computed, (\d+) resumed\)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(8);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(75);
    const ref = await singlePass(bundle, vol, SHAPE);
    const out = await readOutput(output);
    expect(out.shape).toEqual(ref.shape);
    expect(maxAbsDiff(out.data, ref.data)).toBeLessThan(1e-5);
    const ome = out.attrs.ome as {
      multiscales: { axes: { name: string }[] }[];
      omero?: { channels: { label: string }[] };
    };
    expect(ome.multiscales[0]?.axes.map((a) => a.name)).toEqual(['c', 'z', 'y', 'x']);
    expect(ome.omero?.channels.at(-1)?.label).toBe('aff_x1');
    expect(err).toMatch(/ETA \d+:\d\d/);
  }, 120_000);

  test('--roi reads its context from the volume: it equals that region of a whole-volume prediction; --uint8 stores value·255, a zip works like the bundle', async () => {
    const roi = [
      [4, 20],
      [8, 32],
      [8, 32],
    ];
    const output = join(ws.data, 'roi.zarr/affs');
    const r = await cli([
      'predict',
      '-m',
      bundle,
      '-i',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '-o',
      output,
      '--roi',
      roi.map((a) => a.join(':')).join(','),
      '--uint8',
      '-q',
    ]);
    expect(r.code, r.err).toBe(0);
    // Reference: one onnxruntime pass over the whole (zero-padded) volume, cropped to the ROI.
    const whole = await singlePass(bundle, vol, SHAPE);
    const ref = new Float32Array(13 * 16 * 24 * 24);
    let k = 0;
    for (let c = 0; c < 13; c++)
      for (let z = 4; z < 20; z++)
        for (let y = 8; y < 32; y++)
          for (let x = 8; x < 32; x++) ref[k++] = whole.data[((c * 24 + z) * 40 + y) * 40 + x] as number;
    // The ROI's context is real data, not padding: padding it would give different values here.
    const padded = await singlePass(bundle, cropOf(vol, roi), [16, 24, 24]);
    expect(maxAbsDiff(padded.data, ref)).toBeGreaterThan(1e-3);
    const out = await readOutput(output);
    expect(out.shape).toEqual([13, 16, 24, 24]);
    expect(out.data).toBeInstanceOf(Uint8Array);
    const expected = Float32Array.from(ref, (v) => Math.min(255, Math.max(0, Math.round(v * 255))));
    expect(maxAbsDiff(out.data, expected)).toBeLessThanOrEqual(1);
    const ms = (
      out.attrs.ome as {
        multiscales: { datasets: { coordinateTransformations: { translation?: number[] }[] }[] }[];
      }
    ).multiscales[0];
    expect(ms?.datasets[0]?.coordinateTransformations[1]?.translation).toEqual([0, 32, 64, 64]);

    const zip = (await packageBundle(bundle, { outDir: join(ws.dir, 'dist'), profiles: ['fiji'] })).zipPath;
    const z = await cli([
      'predict',
      '-m',
      zip,
      '-i',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '-o',
      join(ws.data, 'zip.zarr'),
      '--roi',
      '4:20,8:32,8:32',
      '-q',
    ]);
    expect(z.code, z.err).toBe(0);
    expect(maxAbsDiff((await readOutput(join(ws.data, 'zip.zarr'))).data, ref)).toBeLessThan(1e-5);

    // float32 from the bundle, small blocks: several tiles inside the ROI, same values.
    const f = await cli([
      'predict',
      '-m',
      bundle,
      '-i',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '-o',
      join(ws.data, 'roi-f32.zarr'),
      '--roi',
      '4:20,8:32,8:32',
      '--block',
      '48,48,48',
      '-q',
    ]);
    expect(f.code, f.err).toBe(0);
    expect(f.out).toMatch(/18 blocks of \[48,48,48\]/);
    expect(maxAbsDiff((await readOutput(join(ws.data, 'roi-f32.zarr'))).data, ref)).toBeLessThan(1e-5);
  }, 120_000);

  test.each([
    [
      'voxel size differs (gunpowder resolution)',
      'res4',
      [4, 4, 4],
      [],
      /\[VoxelSizeMismatch\].*\[4,4,4\].*\[8,8,8\]/,
    ],
    [
      'voxel size differs (OME-Zarr scale)',
      'ome',
      [16, 16, 16],
      [],
      /\[VoxelSizeMismatch\].*\[16,16,16\].*OME/,
    ],
    ['roi outside the volume', 'ok', [8, 8, 8], ['--roi', '0:10,0:10,0:99'], /\[InvalidArgument\] roi/],
    [
      'block not a valid size',
      'ok',
      [8, 8, 8],
      ['--block', '45,44,44'],
      /\[InvalidArgument\] block \[45,44,44\].*\n.*\[44,44,44\] \+ k·\[4,4,4\]/,
    ],
    ['malformed roi', 'ok', [8, 8, 8], ['--roi', '1:2'], /roi '1:2'/],
    ['int64 input', 'int64', [8, 8, 8], [], /\[InvalidTensor\].*dtype int64[\s\S]*hint: convert/],
    ['2-D input', '2d', [8, 8, 8], [], /\[InvalidTensor\].*shape \[8,8\].*\[z, y, x\]/],
    ['OME axes in x, y, z order', 'xyz', [8, 8, 8], [], /\[InvalidTensor\].*axes \[x,y,z\]/],
  ] as const)('%s → exit 2 with a hint', async (_name, kind, res, extra, message) => {
    let input: string;
    if (kind === 'ome' || kind === 'xyz') {
      input = join(ws.dir, `${kind}-in.zarr`);
      const w = await createVolume(input, {
        shape: [8, 8, 8],
        chunks: [8, 8, 8],
        dtype: 'uint8',
        ome: {
          channelAxis: false,
          voxelSize: [...res],
          ...(kind === 'xyz' ? { spatialAxes: ['x', 'y', 'z'] } : {}),
        },
      });
      await w.write([0, 0, 0], { dtype: 'uint8', shape: [8, 8, 8], data: new Uint8Array(512) });
    } else if (kind === 'int64' || kind === '2d') {
      input = join(ws.dir, `${kind}.zarr`);
      await python(
        `import sys, zarr, numpy as np
a = np.zeros((8, 8) if sys.argv[2] == '2d' else (8, 8, 8), dtype=np.uint8 if sys.argv[2] == '2d' else np.int64)
zarr.open(sys.argv[1], 'w').create_dataset('raw', data=a).attrs['resolution'] = [8, 8, 8]`,
        [input, kind],
      );
      input = `${input}/raw`;
    } else {
      input = join(ws.dir, `${kind}-${res.join('')}.zarr`);
      await writeRawZarr(input, [8, 8, 8], [...res]);
      input = `${input}/volumes/raw`;
    }
    const r = await cli([
      'predict',
      '-m',
      bundle,
      '-i',
      input,
      '-o',
      join(ws.dir, `never-${_name.length}.zarr`),
      ...extra,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/hint: /);
  });

  test('--uint8 with a model whose channels are not in [0, 1] stops before any block (exit 2)', async () => {
    // synful-demo (committed): partner vectors in nm would be clamped to 0..255 / 255.
    const r = await cli([
      'predict',
      '-m',
      join(ROOT, 'weights/synful-demo'),
      '-i',
      join(ws.data, 'raw.zarr/volumes/raw'),
      '-o',
      join(ws.dir, 'never-synful-u8.zarr'),
      '--uint8',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[InvalidArgument\].*not in \[0, 1\] \(vector_z, vector_y, vector_x\)/);
    expect(r.err).toMatch(/hint: store float32/);
  });

  test('an unknown model id lists the known ones (exit 3)', async () => {
    const r = await cli(['predict', '-m', 'nope', '--weights', ws.weights, '-i', 'x.zarr', '-o', 'y.zarr']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/known bundles in .*: lsd-small-mtlsd, tiny-classes/);
  });
});
