/**
 * The real client: bioimageio.core's `bioimageio test` (format validation with IO checks, then every
 * weights format reproduced and run at sizes n = 0, 1, 2 and batch 1, 2) must pass our zips.
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
  let classes: string;
  let padded: string;
  beforeAll(async () => {
    dense = (await packageBundle(realBundle(), { outDir: tempDir() })).zipPath;
    classes = (await packageBundle(tinyBundle('classes'), { outDir: tempDir() })).zipPath;
    padded = (await packageBundle(tinyBundle('padded'), { outDir: tempDir() })).zipPath;
  }, 240_000);

  it.concurrent('passes the dense package (onnx, torchscript, state dict; sizes and batches)', async () => {
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

  it.concurrent('passes the class-output package', async () => {
    const r = await bioimageioTest(classes);
    expect(r.status, r.output.slice(-4000)).toBe('passed');
    expect(r.code).toBe(0);
  }, 240_000);

  it.concurrent('tiles a halo package blockwise as consumers do, matching one whole-volume pass', async () => {
    // bioimageio.core's blockwise prediction (the machinery tiktorch/ilastik build on) overlaps
    // input blocks by the output halo and crops it; the interior must equal one ONNX pass.
    const script = [
      'import io, sys, zipfile, warnings, numpy as np, onnxruntime as ort',
      'warnings.filterwarnings("ignore")',
      'from bioimageio.core import load_description, predict',
      'zp = sys.argv[1]; z = zipfile.ZipFile(zp)',
      'x = np.load(io.BytesIO(z.read("test_input.npy")))',
      'x = np.pad(x, ((0, 0), (0, 0), (0, 30), (0, 48), (0, 48)), mode="symmetric")',
      'full = ort.InferenceSession(z.read("model.onnx")).run(None, {"raw": (x * np.float32(2 / 255) - 1).astype(np.float32)})[0]',
      'md = load_description(zp, perform_io_checks=False)',
      'y = predict(model=md, inputs={"raw": x}, blocksize_parameter=0).members["affinities"].data.to_numpy()',
      'print(y.shape == full.shape, float(np.abs(y - full)[..., 2:-2, 2:-2, 2:-2].max()))',
    ].join('\n');
    const { stdout } = await exec(join(ROOT, '.venv/bin/python'), ['-c', script, padded], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      maxBuffer: 16 << 20,
    });
    const [sameShape, maxErr] = stdout.trim().split('\n').pop()?.split(' ') ?? [];
    expect(sameShape).toBe('True');
    expect(Number(maxErr)).toBeLessThan(1e-4);
  }, 240_000);
});
