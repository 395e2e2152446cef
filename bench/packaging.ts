/**
 * Packaging speed: `bioimage-export package` on a bundle with ≥ 100 MB of weights vs bioimageio.core's
 * `bioimageio package` on the equivalent rdf (the folder our zip unpacks to: the same rdf.yaml and
 * files), in the same run, interleaved. Wall time of each command as a user runs it (process start
 * included). Bundles and outputs stay in /tmp (EMZOO_BENCH_DIR), never in the repository.
 *
 *   node --import tsx bench/packaging.ts [--preset lsd-zebrafinch-baseline] [--rounds 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CLI,
  EMZOO,
  flags,
  fmt,
  loadNote,
  median,
  PYTHON,
  pythonEnv,
  ROOT,
  SCRATCH,
  table,
} from './inference/common.js';

const BIOIMAGEIO = join(ROOT, '.venv/bin/bioimageio');
const MB = 1e6;
const WEIGHT_FILES = ['model.onnx', 'model.torchscript.pt', 'state_dict.pt'];

const opts = flags({ preset: 'lsd-zebrafinch-baseline', rounds: 3 });
const work = join(SCRATCH, 'packaging');

/** The preset exported with random weights into SCRATCH (once; legacy ONNX exporter, no size sweep). */
function ensureBundle(preset: string): string {
  const dir = join(SCRATCH, 'bundles', 'packaging', preset);
  if (existsSync(join(dir, 'bundle.yaml'))) return dir;
  mkdirSync(join(dir, '..'), { recursive: true });
  process.stderr.write(`exporting ${preset} → ${dir} (once; minutes for a large preset)\n`);
  execFileSync(
    EMZOO,
    [
      'export',
      ...['--preset', preset, '--out', dir, '--force'],
      ...['--onnx-exporter', 'legacy', '--opset', '17', '--skip-size-check'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: pythonEnv({ OMP_NUM_THREADS: '2' }) },
  );
  return dir;
}

interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Runs a command to completion under /usr/bin/time: wall seconds and CPU seconds (user + sys of
 * it and its children; steadier than wall time when the machine is busy). Throws on failure.
 */
function timed(cmd: string, args: string[]): Timing {
  const out = join(work, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, cmd, ...args], {
    cwd: ROOT,
    env: pythonEnv(),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited with ${r.status}:\n${(r.stdout + r.stderr).slice(-4000)}`,
    );
  }
  const [user, sys] = readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { wall, cpu: (user as number) + (sys as number) };
}

/** sha256 of every entry of a zip (Python's zipfile: independent of both packagers' writers). */
function entryHashes(zip: string): Record<string, string> {
  const py = [
    'import hashlib, json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'out = {}',
    'for i in z.infolist():',
    '    h = hashlib.sha256()',
    '    with z.open(i) as f:',
    '        for b in iter(lambda: f.read(1 << 24), b""): h.update(b)',
    '    out[i.filename] = [h.hexdigest(), i.compress_type]',
    'print(json.dumps(out))',
  ].join('\n');
  const o = JSON.parse(execFileSync(PYTHON, ['-c', py, zip], { encoding: 'utf8', env: pythonEnv() }));
  return Object.fromEntries(Object.entries(o as Record<string, [string, number]>).map(([k, v]) => [k, v[0]]));
}

const bundle = ensureBundle(opts.preset);
const weights = WEIGHT_FILES.map((f) => ({ f, bytes: statSync(join(bundle, f)).size }));
const stateDict = weights.find((w) => w.f === 'state_dict.pt')?.bytes ?? 0;
if (stateDict < 100 * MB) {
  throw new Error(
    `${opts.preset}: state_dict.pt is ${fmt(stateDict / MB, 1)} MB; pick a preset with ≥ 100 MB of weights (--preset)`,
  );
}

rmSync(work, { recursive: true, force: true });
const oursDir = join(work, 'ours');
const theirsZip = join(work, 'theirs', `${opts.preset}.zip`);
const rdfDir = join(work, 'rdf');
mkdirSync(join(work, 'theirs'), { recursive: true });
const oursZip = join(oursDir, `${opts.preset}.zip`);

const ours = () => {
  rmSync(oursZip, { force: true });
  return timed(process.execPath, [CLI, 'package', bundle, '--out', oursDir, '-q']);
};
const theirs = () => {
  rmSync(theirsZip, { force: true });
  return timed(BIOIMAGEIO, ['package', join(rdfDir, 'rdf.yaml'), theirsZip]);
};

console.log(loadNote());
console.log(
  `bundle ${bundle}: ${weights.map((w) => `${w.f} ${fmt(w.bytes / MB, 1)} MB`).join(', ')} ` +
    `(weights ${fmt(weights.reduce((a, w) => a + w.bytes, 0) / MB, 0)} MB)`,
);

// warm-up (page cache, bytecode), and it makes the equivalent rdf: our zip unpacked
const warmOurs = ours();
execFileSync('unzip', ['-q', '-o', oursZip, '-d', rdfDir]);
const warmTheirs = theirs();
process.stderr.write(`warm-up: ours ${fmt(warmOurs.wall)} s, bioimageio ${fmt(warmTheirs.wall)} s\n`);

// correctness first: both packages hold the same files with the same bytes (rdf.yaml aside)
const a = entryHashes(oursZip);
const b = entryHashes(theirsZip);
const names = Object.keys(a).sort();
const differ = names.filter((n) => n !== 'rdf.yaml' && a[n] !== b[n]);
const missing = Object.keys(b)
  .filter((n) => !(n in a))
  .concat(names.filter((n) => !(n in b)));
if (differ.length > 0 || missing.length > 0) {
  throw new Error(
    `the two packages differ: bytes of ${differ.join(', ')}; only in one: ${missing.join(', ')}`,
  );
}
console.log(
  `equivalent: both zips hold the same ${names.length} files, byte-identical except rdf.yaml (re-serialised)`,
);

const times = { ours: [] as Timing[], theirs: [] as Timing[] };
for (let r = 0; r < opts.rounds; r++) {
  // rotate the order so neither always runs on a cache the other just warmed
  const order = r % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const);
  for (const who of order) times[who].push(who === 'ours' ? ours() : theirs());
  const last = (xs: Timing[]) => xs.at(-1) as Timing;
  process.stderr.write(
    `round ${r + 1}: ours ${fmt(last(times.ours).wall)} s (cpu ${fmt(last(times.ours).cpu)}), ` +
      `bioimageio ${fmt(last(times.theirs).wall)} s (cpu ${fmt(last(times.theirs).cpu)})\n`,
  );
}

const wall = (xs: Timing[]) => xs.map((t) => t.wall);
const cpu = (xs: Timing[]) => xs.map((t) => t.cpu);
const row = (label: string, cmd: string, xs: Timing[], zip: string) => [
  label,
  cmd,
  fmt(median(wall(xs))),
  `${fmt(Math.min(...wall(xs)))}–${fmt(Math.max(...wall(xs)))}`,
  fmt(median(cpu(xs))),
  fmt(statSync(zip).size / MB, 0),
];
console.log('');
console.log(
  table(
    ['packager', 'command', 'wall s (median)', 'wall range', 'cpu s (median)', 'zip MB'],
    [
      row('bioimage-export (ours)', 'bioimage-export package <bundle>', times.ours, oursZip),
      row('bioimageio.core', 'bioimageio package <rdf.yaml> <zip>', times.theirs, theirsZip),
    ],
  ),
);
const ratio = (f: (xs: Timing[]) => number[]) => median(f(times.theirs)) / median(f(times.ours));
console.log('');
console.log(
  `speed-up (bioimageio.core ÷ ours, medians of ${opts.rounds} rounds; goal ≥ 3×): ` +
    `wall ${fmt(ratio(wall))}×, cpu ${fmt(ratio(cpu))}×`,
);
console.log(loadNote());
// the 1+ GB zips are not kept
rmSync(work, { recursive: true, force: true });
