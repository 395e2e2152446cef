import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODE } from '../../cli/exit-codes.js';
import { main } from '../../cli/main.js';
import { copyBundle, REAL_PRESET, ROOT, realBundle, tempDir, tinyBundle } from '../exporters/bundles.js';

/** Runs the CLI in-process, capturing stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

const exec = promisify(execFile);
/** Runs the real launcher (bin/bioimage-export.js) in a child process. */
async function spawnCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    // another time zone than the in-process runs: zip timestamps must not depend on it
    const env = { ...process.env, TZ: 'America/Los_Angeles' };
    const r = await exec(process.execPath, [join(ROOT, 'bin/bioimage-export.js'), ...argv], {
      cwd: ROOT,
      env,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

let weights: string; // a weights/ folder: the real bundle, a class bundle, an untrained one, a broken one
let dist: string;
let zip: string;

beforeAll(async () => {
  weights = tempDir('emzoo-weights-');
  dist = tempDir('emzoo-dist-');
  cpSync(realBundle(), join(weights, REAL_PRESET), { recursive: true });
  for (const k of ['classes', 'untrained', 'batch-mix'] as const)
    cpSync(tinyBundle(k), join(weights, `tiny-${k}`), { recursive: true });
  // tiny-dense: a bundle whose architecture.py was edited after export (only hashes tell)
  cpSync(tinyBundle('dense'), join(weights, 'tiny-dense'), { recursive: true });
  writeFileSync(join(weights, 'tiny-dense/architecture.py'), '# edited after export\n', { flag: 'a' });
  mkdirSync(join(weights, 'broken'));
  writeFileSync(join(weights, 'broken/bundle.yaml'), 'id: broken\nname: [not, a, string]\n');
  const r = await cli('package', REAL_PRESET, '--weights', weights, '--out', dist, '-q');
  expect(r.code).toBe(0);
  zip = join(dist, `${REAL_PRESET}.zip`);
}, 240_000);

describe('bioimage-export (launcher)', () => {
  it('prints help with examples and the exit codes, exit 0', async () => {
    const r = await spawnCli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Examples:');
    expect(r.out).toContain('Exit codes:');
    for (const c of ['list', 'package', 'validate', 'test', 'inspect']) expect(r.out).toContain(c);
  });

  it('packages through the launcher and reports progress on stderr', async () => {
    const out = tempDir();
    const r = await spawnCli('package', join(weights, REAL_PRESET), '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${join(out, `${REAL_PRESET}.zip`)}`);
    expect(r.err).toMatch(/\[\s*\d+\.\ds\] reproducing test_output\.npy/);
    expect(readFileSync(join(out, `${REAL_PRESET}.zip`)).equals(readFileSync(zip))).toBe(true);
  });

  it('exits 2 on an unknown command or flag', async () => {
    expect((await spawnCli('frobnicate')).code).toBe(2);
    expect((await cli('package', '--bogus')).code).toBe(2);
  });
});

describe('list', () => {
  it('shows every bundle with its state and whether it is packaged', async () => {
    const r = await cli('list', '--weights', weights, '--out', dist, '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { id: string; state: string; packaged: string }[];
    const by = Object.fromEntries(rows.map((x) => [x.id, x]));
    expect(by[REAL_PRESET]).toMatchObject({ state: 'untrained', packaged: 'yes' });
    expect(by['tiny-classes']).toMatchObject({ state: 'valid', packaged: 'no' });
    expect(by['tiny-untrained']).toMatchObject({ state: 'untrained' });
    expect(by.broken).toMatchObject({ state: 'invalid', packaged: 'no' });
    expect(by['tiny-dense']).toMatchObject({ state: 'valid' }); // hashes are not read without --verify
  });

  it('--verify reads every file against its sha256', async () => {
    const r = await cli('list', '--weights', weights, '--out', dist, '--json', '--verify');
    const by = Object.fromEntries(
      (JSON.parse(r.out) as { id: string; state: string; problem: string }[]).map((x) => [x.id, x]),
    );
    expect(by['tiny-dense']?.state).toBe('invalid');
    expect(by['tiny-dense']?.problem).toContain('architecture.py');
    expect(by['tiny-classes']?.state).toBe('valid');
  });
});

describe('package: exit codes per failure', () => {
  const code = async (...argv: string[]) => (await cli(...argv, '--out', tempDir(), '-q')).code;

  it('3 for an unknown bundle, listing the known ones', async () => {
    const r = await cli('package', 'no-such-model', '--weights', weights, '--out', tempDir());
    expect(r.code).toBe(EXIT_CODE.BundleNotFound);
    expect(r.err).toContain('tiny-classes');
  });
  it('4 for an invalid bundle.yaml', async () => {
    expect(await code('package', join(weights, 'broken'))).toBe(EXIT_CODE.BundleInvalid);
  });
  it('5 for a test output that does not reproduce', async () => {
    const dir = copyBundle(join(weights, 'tiny-classes'));
    const text = readFileSync(join(dir, 'bundle.yaml'), 'utf8');
    // swap the test output for the dense fixture's, and re-hash it in bundle.yaml
    const other = readFileSync(join(weights, REAL_PRESET, 'test_output.npy'));
    writeFileSync(join(dir, 'test_output.npy'), other);
    const { createHash } = await import('node:crypto');
    const oldSha = /test_output\.npy: ([0-9a-f]{64})/.exec(text)?.[1] as string;
    writeFileSync(
      join(dir, 'bundle.yaml'),
      text.replace(oldSha, createHash('sha256').update(other).digest('hex')),
    );
    const out = tempDir();
    const r = await cli('package', dir, '--out', out, '-q');
    expect(r.code).toBe(EXIT_CODE.ReproduceFailed);
    expect(r.err).toContain('ReproduceFailed');
    expect(existsSync(join(out, 'tiny-classes.zip'))).toBe(false);
  });
  it('7 when a consumer rule cannot be met', async () => {
    expect(await code('package', join(weights, 'tiny-classes'), '--for', 'ilastik')).toBe(
      EXIT_CODE.ConsumerRuleFailed,
    );
  });
  it('2 for an unknown profile', async () => {
    expect(await code('package', join(weights, 'tiny-classes'), '--for', 'napari')).toBe(
      EXIT_CODE.InvalidArgument,
    );
  });
  it('--all packages what it can and exits with the first failure', async () => {
    const out = tempDir();
    const r = await cli('package', '--all', '--weights', weights, '--out', out, '-q', '--json');
    expect(r.code).toBe(EXIT_CODE.BundleInvalid);
    const rows = JSON.parse(r.out) as { id?: string; error?: string }[];
    expect(
      rows
        .filter((x) => x.id)
        .map((x) => x.id)
        .sort(),
    ).toEqual([REAL_PRESET, 'tiny-batch-mix', 'tiny-classes', 'tiny-untrained'].sort());
    expect(existsSync(join(out, 'tiny-classes.zip'))).toBe(true);
  });
});

describe('validate', () => {
  it('--json reports a valid package with the consumer checks it ran', async () => {
    const r = await cli('validate', zip, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(true);
    expect(report.errors).toEqual([]);
    expect(report.profiles).toEqual(['ilastik', 'fiji']);
    expect(report.checks).toMatchObject({ schema: true, semantic: true, files: true });
    expect([...report.checks.consumers].sort()).toEqual(['deepimagej', 'ilastik']);
  });

  it('validates an unpacked rdf.yaml too', async () => {
    const dir = tempDir();
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(readFileSync(zip)))))
      writeFileSync(join(dir, name), bytes);
    expect((await cli('validate', join(dir, 'rdf.yaml'))).code).toBe(0);
  });

  it('exits 6 with a sha256 finding when an entry was changed after packaging', async () => {
    const files = unzipSync(new Uint8Array(readFileSync(zip)));
    files['test_input.npy'] = new Uint8Array(files['test_input.npy'] as Uint8Array);
    (files['test_input.npy'] as Uint8Array)[200] ^= 0xff;
    const bad = join(tempDir(), 'bad.zip');
    writeFileSync(bad, zipSync(files, { level: 0 }));
    const r = await cli('validate', bad, '--json');
    expect(r.code).toBe(EXIT_CODE.RdfInvalid);
    const report = JSON.parse(r.out);
    expect(report.ok).toBe(false);
    expect(report.errors.map((e: { code: string }) => e.code)).toContain('sha256');
  });

  it('exits 8 for a file that is not a zip, and for a zip without rdf.yaml', async () => {
    const notZip = join(tempDir(), 'x.zip');
    writeFileSync(notZip, 'hello');
    expect((await cli('validate', notZip)).code).toBe(EXIT_CODE.ZipInvalid);
    const noRdf = join(tempDir(), 'y.zip');
    writeFileSync(noRdf, zipSync({ 'README.md': new TextEncoder().encode('# hi') }));
    expect((await cli('validate', noRdf)).code).toBe(EXIT_CODE.ZipInvalid);
  });

  it('exits 7 when only consumer rules fail', async () => {
    const out = tempDir();
    expect((await cli('package', join(weights, 'tiny-classes'), '--out', out, '-q')).code).toBe(0);
    const r = await cli('validate', join(out, 'tiny-classes.zip'), '--for', 'ilastik', '--json');
    expect(r.code).toBe(EXIT_CODE.ConsumerRuleFailed);
    expect(JSON.parse(r.out).errors.every((e: { code: string }) => e.code === 'ilastik')).toBe(true);
  });
});

describe('test', () => {
  it('passes the real package and prints a table', async () => {
    const r = await cli('test', zip, '-q');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PASSED/);
    expect(r.out.match(/^(shape|consistency|batch)\s+[012]\s/gm)?.length).toBe(9);
  });

  it('exits 10 when batching is broken', async () => {
    const out = tempDir();
    expect((await cli('package', join(weights, 'tiny-batch-mix'), '--out', out, '-q')).code).toBe(0);
    const r = await cli('test', join(out, 'tiny-batch-mix.zip'), '-q', '--json');
    expect(r.code).toBe(EXIT_CODE.ModelTestFailed);
    expect(JSON.parse(r.out).checks.filter((c: { ok: boolean }) => !c.ok).length).toBe(3);
  });
});

describe('inspect', () => {
  it('shows I/O names, shapes and opset of an .onnx file', async () => {
    const r = await cli('inspect', join(weights, REAL_PRESET, 'model.onnx'), '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.onnx.opset).toBe(17);
    expect(info.onnx.inputs).toHaveLength(1);
    expect(info.onnx.inputs[0].shape).toHaveLength(5);
    expect(info.onnx.outputs[0].shape[1]).toBe(13);
  });

  it('shows the package and its model for a zip', async () => {
    const r = await cli('inspect', zip);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^opset\s+17/m);
    expect(r.out).toMatch(/^package\s+.*weights: pytorch_state_dict, torchscript, onnx/m);
  });

  it('exits 9 for a file that is not ONNX', async () => {
    const p = join(tempDir(), 'x.onnx');
    writeFileSync(p, new Uint8Array([0x08, 0x07, 0xff]));
    expect((await cli('inspect', p)).code).toBe(EXIT_CODE.OnnxInvalid);
  });
});
