/**
 * The real client: bioimageio.core's `bioimageio test` (format validation with IO checks, then every
 * weights format reproduced and run at sizes n = 0, 1, 2 and batch 1, 2) must pass our zips, in both
 * output forms: the zoo variant (padded output + halo, what an exported dense bundle now packages)
 * and the valid form (size offset −2·halo, bundles without a zoo variant). bioimageio.core's
 * blockwise prediction, which ilastik/tiktorch tile with, must equal one whole-volume pass.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageBundle } from '../../exporters/index.js';
import { ROOT, realBundle, tempDir, tinyBundle } from './bundles.js';

const BIOIMAGEIO = join(ROOT, '.venv/bin/bioimageio');
const exec = promisify(execFile);

async function bioimageioTest(
  zip: string,
): Promise<{ code: number; output: string; status: string; checks: string[] }> {
  const summary = join(tempDir(), 'summary.json');
  try {
    const r = await exec(BIOIMAGEIO, ['test', zip, '--summary', summary], {
      cwd: tempDir(),
      env: { ...process.env, OMP_NUM_THREADS: '1', NO_COLOR: '1' },
      maxBuffer: 64 << 20,
    });
    return { code: 0, output: r.stdout + r.stderr, ...readSummary(summary) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, output: x.stdout + x.stderr, ...readSummary(summary) };
  }
}

function readSummary(path: string): { status: string; checks: string[] } {
  if (!existsSync(path)) return { status: 'no summary', checks: [] };
  const s = JSON.parse(readFileSync(path, 'utf8')) as {
    status: string;
    details: { name: string; status: string }[];
  };
  return { status: s.status, checks: s.details.map((d) => `${d.status}: ${d.name}`) };
}

describe.skipIf(!existsSync(BIOIMAGEIO))('bioimageio test (bioimageio.core)', () => {
  let dense: string;
  let valid: string;
  let classes: string;
  let padded: string;
  let zip64: string;
  beforeAll(async () => {
    dense = (await packageBundle(realBundle(), { outDir: tempDir() })).zipPath;
    zip64 = (await packageBundle(realBundle(), { outDir: tempDir(), forceZip64: true })).zipPath;
    valid = (await packageBundle(tinyBundle('dense'), { outDir: tempDir() })).zipPath;
    classes = (await packageBundle(tinyBundle('classes'), { outDir: tempDir() })).zipPath;
    padded = (await packageBundle(tinyBundle('padded'), { outDir: tempDir() })).zipPath;
  }, 240_000);

  it.concurrent('passes the dense zoo-variant package (onnx, torchscript, state dict; sizes and batches)', async () => {
    const r = await bioimageioTest(dense);
    expect(r.status, r.output.slice(-4000)).toBe('passed');
    expect(r.code).toBe(0);
    for (const wf of ['onnx', 'torchscript', 'pytorch_state_dict']) {
      expect(
        r.checks.filter(
          (c) =>
            (c.includes(`Reproduce test outputs`) && c.includes(wf)) || c.includes(`Run ${wf} inference`),
        ).length,
      ).toBeGreaterThan(0);
    }
    expect(r.checks.filter((c) => !c.startsWith('passed'))).toEqual([]);
  }, 240_000);

  it.concurrent('passes the dense package written with zip64 records (as packages over 4 GiB are)', async () => {
    const r = await bioimageioTest(zip64);
    expect(r.status, r.output.slice(-4000)).toBe('passed');
    expect(r.code).toBe(0);
  }, 240_000);

  it.concurrent('`bioimageio package` of our zip keeps the attached valid-output model.onnx', async () => {
    const out = join(tempDir(), 'repackaged.zip');
    await exec(BIOIMAGEIO, ['package', dense, out], {
      cwd: tempDir(),
      env: { ...process.env, OMP_NUM_THREADS: '1', NO_COLOR: '1' },
      maxBuffer: 64 << 20,
    });
    const py = [
      'import hashlib, json, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))',
    ].join('\n');
    const hashes = async (zip: string) =>
      JSON.parse((await exec(join(ROOT, '.venv/bin/python'), ['-c', py, zip])).stdout) as Record<
        string,
        string
      >;
    const [ours, theirs] = await Promise.all([hashes(dense), hashes(out)]);
    expect(theirs['model.onnx']).toBeDefined();
    expect(theirs['model.onnx']).toBe(ours['model.onnx']);
  }, 240_000);

  it.concurrent('passes a valid-form package (output = input − 2·halo, declared as size offset)', async () => {
    const r = await bioimageioTest(valid);
    expect(r.status, r.output.slice(-4000)).toBe('passed');
    expect(r.code).toBe(0);
  }, 240_000);

  it.concurrent('passes the class-output package', async () => {
    const r = await bioimageioTest(classes);
    expect(r.status, r.output.slice(-4000)).toBe('passed');
    expect(r.code).toBe(0);
  }, 240_000);

  // test/fixtures/tiled_vs_whole.py: the zip's test input extended to size k, tiled by bioimageio.core
  // with blocks of size n (overlapping by the declared halo), vs one onnxruntime pass over the volume
  async function tiledVsWhole(zip: string, k: number, n: number) {
    const { stdout } = await exec(
      join(ROOT, '.venv/bin/python'),
      [join(ROOT, 'test/fixtures/tiled_vs_whole.py'), zip, String(k), String(n)],
      { cwd: tempDir(), env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 16 << 20 },
    );
    return JSON.parse(stdout.trim().split('\n').pop() as string) as {
      volume: number[];
      blocks: number;
      tiled_shape: number[];
      whole_shape: number[];
      max_abs: number | null;
      valid_max: number;
    };
  }

  it.concurrent('tiles the real zoo-variant package blockwise as ilastik does, matching one whole pass', async () => {
    const r = await tiledVsWhole(dense, 7, 5); // 72³ volume, 64³ blocks with halo 20: 27 blocks
    expect(r.tiled_shape).toEqual(r.whole_shape);
    expect(r.blocks).toBeGreaterThan(1);
    expect(r.valid_max).toBeGreaterThan(0.1); // not comparing zeros
    expect(r.max_abs).not.toBeNull();
    expect(r.max_abs as number).toBeLessThan(1e-4);
  }, 300_000);

  it.concurrent('tiles a toy halo package blockwise in many blocks, matching one whole pass', async () => {
    const r = await tiledVsWhole(padded, 6, 1); // 18×32×32 volume, 8×12×12 blocks with halo 2
    expect(r.tiled_shape).toEqual(r.whole_shape);
    expect(r.blocks).toBeGreaterThan(20);
    expect(r.max_abs as number).toBeLessThan(1e-4);
  }, 240_000);
});
