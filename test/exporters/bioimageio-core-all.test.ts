/**
 * The real client on every zip `bioimage-export package --all` writes: the committed bundles in
 * weights/ and, so this can never pass on nothing, the smallest non-paper preset of every task
 * exported with random weights into a temp folder. Each zip must pass bioimageio.core's
 * `bioimageio test` in every weight format at every size it declares; then each is repackaged the
 * way ilastik does (bioimageio.spec, weights priority torchscript > pytorch_state_dict) and that
 * package must pass too. (bioimageio-core.test.ts covers lsd-small-mtlsd and a toy class model.)
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDirs } from '../../cli/bundles.js';
import { ROOT, tempDir } from './bundles.js';

const VENV = join(ROOT, '.venv/bin');
const BIOIMAGEIO = join(VENV, 'bioimageio');
const EMZOO = join(VENV, 'emzoo');
const LAUNCHER = join(ROOT, 'bin/bioimage-export.js');
const REPACKAGE = join(ROOT, 'test/fixtures/ilastik_repackage.py');
const WEIGHT_FORMATS = ['onnx', 'pytorch_state_dict', 'torchscript'];
const ENV = { ...process.env, OMP_NUM_THREADS: '1', NO_COLOR: '1' };
// 2 at a time: one per core here; every child runs single-threaded
const PARALLEL = 2;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env: ENV, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface Preset {
  name: string;
  task: string;
  paper: boolean;
  parameters: number;
}

/** The smallest non-paper preset of each task, read from the registry (not a hard-coded list). */
function smallPresets(): { tasks: string[]; picked: string[] } {
  if (!existsSync(EMZOO)) return { tasks: [], picked: [] };
  const all = JSON.parse(execFileSync(EMZOO, ['presets', '--json'], { encoding: 'utf8' })) as Preset[];
  const tasks = [...new Set(all.map((p) => p.task))].sort();
  const picked = tasks.flatMap((t) => {
    const small = all.filter((p) => p.task === t && !p.paper).sort((a, b) => a.parameters - b.parameters);
    return small.length > 0 ? [(small[0] as Preset).name] : [];
  });
  return { tasks, picked };
}

interface Detail {
  name: string;
  status: string;
  loc: (string | number)[];
  errors: { msg: string }[];
}

interface CoreTest extends Run {
  status: string;
  details: Detail[];
}

/** Every temp folder this file makes (exports, zips, summaries): removed after the suite. */
const scratch: string[] = [];
function scratchDir(prefix: string): string {
  const d = tempDir(prefix);
  scratch.push(d);
  return d;
}

async function bioimageioTest(zip: string): Promise<CoreTest> {
  const summary = join(scratchDir('emzoo-core-'), 'summary.json');
  const r = await run(BIOIMAGEIO, ['test', zip, '--summary', summary], scratchDir('emzoo-core-cwd-'));
  if (!existsSync(summary)) return { ...r, status: 'no summary written', details: [] };
  const s = JSON.parse(readFileSync(summary, 'utf8')) as { status: string; details: Detail[] };
  return { ...r, status: s.status, details: s.details };
}

/** Why a run failed, for assertion messages: the failed checks' errors, then the output's tail. */
function explain(r: CoreTest): string {
  const failed = r.details
    .filter((d) => d.status !== 'passed')
    .map((d) => `${d.name}: ${d.errors.map((e) => e.msg).join('; ')}`);
  return [...failed, (r.stdout + r.stderr).slice(-3000)].join('\n');
}

type Rdf = {
  weights: Record<string, unknown>;
  inputs: { axes: { type: string; size?: unknown }[] }[];
};

function rdfOf(zip: string): Rdf {
  const files = unzipSync(readFileSync(zip), { filter: (f) => f.name === 'rdf.yaml' });
  const bytes = files['rdf.yaml'];
  if (!bytes) throw new Error(`${zip} has no rdf.yaml at its root`);
  return parseYaml(new TextDecoder().decode(bytes)) as Rdf;
}

/**
 * The (batch, n) runs bioimageio.core must make per weight format, from the spec's rule: n = 0..2
 * if any input axis has a {min, step} size (else n = 0), batch 1 and 2 unless the batch axis is fixed.
 */
function expectedRuns(rdf: Rdf): number {
  const axes = rdf.inputs.flatMap((t) => t.axes);
  const parameterized = axes.some((a) => typeof a.size === 'object' && a.size !== null && 'step' in a.size);
  const batch = axes.find((a) => a.type === 'batch');
  const batches = batch && batch.size === undefined ? 2 : 1;
  return (parameterized ? 3 : 1) * batches;
}

interface Packaged {
  id: string;
  zip: string;
  profiles: string[];
  source: 'weights' | 'preset';
}

/** One line of test/fixtures/ilastik_repackage.py. */
interface Repackaged {
  zip: string;
  out?: string;
  kept?: string[];
  files?: string[];
  state_dict_kept?: string[];
  state_dict_files?: string[];
  ilastik_problems?: string[];
  status?: string;
  details?: Detail[];
  error?: string;
}

async function packageAll(weights: string, source: Packaged['source']): Promise<Packaged[]> {
  const out = scratchDir('emzoo-dist-');
  const r = await run(process.execPath, [
    LAUNCHER,
    'package',
    '--all',
    '--weights',
    weights,
    '--out',
    out,
    '--json',
    '-q',
  ]);
  if (r.code !== 0)
    throw new Error(
      `bioimage-export package --all --weights ${weights} failed (${r.code}):\n${r.stdout}${r.stderr}`,
    );
  const rows = JSON.parse(r.stdout) as { id: string; zip: string; profiles: string[] }[];
  return rows.map((x) => ({ id: x.id, zip: x.zip, profiles: x.profiles, source }));
}

const { tasks, picked } = smallPresets();
const committed = bundleDirs(join(ROOT, 'weights')).map((d) => d.split('/').pop() as string);
const ids = [...committed, ...picked];

describe.skipIf(!existsSync(BIOIMAGEIO) || !existsSync(EMZOO))(
  'bioimageio.core on every packaged zip',
  () => {
    const packaged = new Map<string, Packaged>();
    const tested = new Map<string, CoreTest>();
    const repackaged = new Map<string, Repackaged>();
    const ours = new Map<string, { validate: Run; test: Run }>();
    let repackageRun: Run;

    beforeAll(async () => {
      const t0 = Date.now();
      const presetDir = scratchDir('emzoo-presets-');
      const exported = await mapLimit(picked, PARALLEL, (p) =>
        // legacy ONNX exporter + no size sweep: the same kind of files 3x faster; bioimageio test
        // sweeps the sizes itself (default dynamo/opset-18 exports pass too, checked by hand)
        run(EMZOO, [
          'export',
          ...['--preset', p, '--out', join(presetDir, p)],
          ...['--onnx-exporter', 'legacy', '--opset', '17', '--skip-size-check'],
        ]),
      );
      exported.forEach((r, i) => {
        if (r.code !== 0)
          throw new Error(`emzoo export --preset ${picked[i]} failed:\n${r.stderr.slice(-3000)}`);
      });
      const t1 = Date.now();
      const zips = [
        ...(committed.length > 0 ? await packageAll(join(ROOT, 'weights'), 'weights') : []),
        ...(await packageAll(presetDir, 'preset')),
      ];
      for (const z of zips) packaged.set(z.id, z);
      const t2 = Date.now();

      // the ilastik repackaging (one Python process) runs alongside the `bioimageio test` pool
      const ilastikDir = scratchDir('emzoo-ilastik-');
      const zipPaths = zips.map((z) => z.zip);
      const [cores, rep] = await Promise.all([
        mapLimit(zips, PARALLEL, (z) => bioimageioTest(z.zip)),
        run(join(VENV, 'python'), ['-W', 'ignore', REPACKAGE, ilastikDir, ...zipPaths]),
      ]);
      for (const [i, z] of zips.entries()) tested.set(z.id, cores[i] as CoreTest);
      // our own client on the same zips: schema + semantics + consumer rules, then onnxruntime at
      // k = 0, 1, 2 and batch 1, 2
      const checks = await mapLimit(zips, PARALLEL, async (z) => ({
        validate: await run(process.execPath, [LAUNCHER, 'validate', z.zip, '--json']),
        test: await run(process.execPath, [LAUNCHER, 'test', z.zip]),
      }));
      for (const [i, z] of zips.entries()) ours.set(z.id, checks[i] as { validate: Run; test: Run });
      repackageRun = rep;
      for (const line of rep.stdout.split('\n').filter((l) => l.startsWith('{'))) {
        const row = JSON.parse(line) as Repackaged;
        const z = zips.find((x) => x.zip === row.zip);
        if (z) repackaged.set(z.id, row);
      }
      const t3 = Date.now();
      const s = (a: number, b: number) => `${((b - a) / 1000).toFixed(0)}s`;
      console.info(
        `bioimageio-core-all: export ${s(t0, t1)}, package ${s(t1, t2)}, bioimageio test + ilastik repackage ${s(t2, t3)}`,
      );
    }, 600_000);

    afterAll(() => {
      for (const d of scratch) rmSync(d, { recursive: true, force: true });
    });

    it('exports one small preset for every task in the registry', () => {
      expect(tasks.length).toBeGreaterThanOrEqual(4);
      expect(picked.length).toBe(tasks.length);
      for (const p of picked) expect(packaged.get(p)?.source, p).toBe('preset');
      for (const c of committed) expect(packaged.get(c)?.source, c).toBe('weights');
    });

    describe.each(ids)('%s', (id) => {
      it('passes `bioimage-export validate` and `bioimage-export test`', () => {
        const r = ours.get(id);
        if (!r) throw new Error(`${id} was not checked`);
        expect(r.validate.code, r.validate.stdout + r.validate.stderr).toBe(0);
        expect(r.test.code, r.test.stdout + r.test.stderr).toBe(0);
      });

      it('passes `bioimageio test` in onnx, torchscript and pytorch_state_dict at every declared size', () => {
        const p = packaged.get(id);
        const r = tested.get(id);
        if (!p || !r) throw new Error(`${id} was not packaged or not tested`);
        expect(r.status, explain(r)).toBe('passed');
        expect(r.code, explain(r)).toBe(0);
        const rdf = rdfOf(p.zip);
        expect(Object.keys(rdf.weights).sort()).toEqual(WEIGHT_FORMATS);
        for (const wf of WEIGHT_FORMATS) {
          const mine = r.details.filter((d) => d.loc[0] === 'weights' && d.loc[1] === wf);
          expect(mine.map((d) => d.name)).toContain(`Reproduce test outputs from test inputs (${wf})`);
          expect(mine.filter((d) => d.name.startsWith(`Run ${wf} inference`)).length, wf).toBe(
            expectedRuns(rdf),
          );
          expect(
            mine.every((d) => d.status === 'passed'),
            `${wf}\n${explain(r)}`,
          ).toBe(true);
        }
        expect(r.details.filter((d) => d.status !== 'passed').map((d) => d.name)).toEqual([]);
      });

      it('repackaged as ilastik does (torchscript > pytorch_state_dict): torchscript only, passes again', () => {
        const p = packaged.get(id);
        const row = repackaged.get(id);
        if (!p || !row) throw new Error(`${id}: no repackage result\n${repackageRun?.stderr.slice(-3000)}`);
        expect(row.error, repackageRun.stderr.slice(-3000)).toBeUndefined();
        expect(row.kept).toEqual(['torchscript']);
        // weight files by the names the zip's rdf gives them (the exporter chooses them)
        const w = rdfOf(p.zip).weights as {
          onnx: { source: string };
          torchscript: { source: string };
          pytorch_state_dict: { source: string; architecture: { source: string } };
        };
        expect(row.files).toContain(w.torchscript.source);
        expect(row.files).not.toContain(w.onnx.source);
        expect(row.files).not.toContain(w.pytorch_state_dict.source);
        // without torchscript ilastik would ship the state dict, which needs its architecture file
        expect(row.state_dict_kept).toEqual(['pytorch_state_dict']);
        expect(row.state_dict_files).toEqual(
          expect.arrayContaining([w.pytorch_state_dict.source, w.pytorch_state_dict.architecture.source]),
        );
        expect(row.state_dict_files).not.toContain(w.torchscript.source);
        // ilastik's own axis rules agree with the exporter's choice of profiles
        if (p.profiles.includes('ilastik')) expect(row.ilastik_problems).toEqual([]);
        else expect(row.ilastik_problems?.length).toBeGreaterThan(0);
        const details = row.details ?? [];
        const failed = details.filter((d) => d.status !== 'passed');
        expect(row.status, JSON.stringify(failed, null, 1)).toBe('passed');
        expect(failed).toEqual([]);
        const formats = new Set(details.filter((d) => d.loc[0] === 'weights').map((d) => d.loc[1]));
        expect([...formats]).toEqual(['torchscript']);
        const runs = details.filter((d) => d.name.startsWith('Run torchscript inference'));
        expect(runs.length).toBe(expectedRuns(rdfOf(p.zip)));
      });
    });
  },
);
