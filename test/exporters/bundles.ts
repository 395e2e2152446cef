/**
 * Test bundles. `realBundle()` runs the real `emzoo export` once for the small LSD preset and keeps
 * the result under .cache/test-bundles/<hash of models/src>/ (shared by every test file; rebuilt when
 * the Python side changes). `tinyBundle()` gives toy bundles from test/fixtures/make_bundle.py (all
 * variants in one Python run, cached too) for what presets cannot give: class outputs, broken nets.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const PYTHON = join(ROOT, '.venv/bin/python');
const EMZOO = join(ROOT, '.venv/bin/emzoo');
export const REAL_PRESET = 'lsd-small-mtlsd';

function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === '__pycache__') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p.slice(ROOT.length)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 16);
}

/** The real exported bundle (read-only: copy it before changing anything). */
export function realBundle(): string {
  const dir = join(ROOT, '.cache/test-bundles', `${REAL_PRESET}-${treeHash(join(ROOT, 'models/src'))}`);
  cached(dir, (work) => {
    // legacy exporter + no size sweep: the same files, 3x faster; our own `test` covers the sizes
    execFileSync(
      EMZOO,
      [
        'export',
        '--preset',
        REAL_PRESET,
        '--out',
        join(work, REAL_PRESET),
        '--onnx-exporter',
        'legacy',
        '--opset',
        '17',
        '--skip-size-check',
      ],
      { stdio: 'pipe', env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
  });
  return join(dir, REAL_PRESET);
}

export type TinyKind = 'dense' | 'classes' | 'batch-mix' | 'static' | 'untrained' | 'padded';

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds `dir` with `build(work)` once across concurrently running test files: the first takes a
 * mkdir lock and builds, the others wait for the finished folder (a lock older than 10 min is stale).
 */
function cached(dir: string, build: (work: string) => void): string {
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(dir)) return dir;
    try {
      mkdirSync(lock);
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 600_000) rmSync(lock, { recursive: true, force: true });
      sleep(250);
      continue;
    }
    try {
      if (existsSync(dir)) return dir;
      const work = mkdtempSync(join(parent, 'build-'));
      build(work);
      renameSync(work, dir);
      return dir;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * A toy bundle (read-only, shared): every variant is written by one run of
 * test/fixtures/make_bundle.py and cached by the script's hash. Copy it before changing it.
 */
export function tinyBundle(kind: TinyKind): string {
  const script = join(ROOT, 'test/fixtures/make_bundle.py');
  const key = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  const root = cached(join(ROOT, '.cache/test-bundles', `tiny-${key}`), (work) => {
    execFileSync(PYTHON, ['-W', 'ignore', script, '--all-variants', work], {
      stdio: 'pipe',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
  });
  return join(root, `tiny-${kind}`);
}

/** A writable copy of a bundle in a fresh temp folder (same folder name). */
export function copyBundle(src: string): string {
  const dst = join(mkdtempSync(join(tmpdir(), 'emzoo-copy-')), src.split('/').pop() as string);
  cpSync(src, dst, { recursive: true });
  return dst;
}

export function tempDir(prefix = 'emzoo-out-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const STORE_ZOO_OUTPUT = `
import hashlib, sys
import numpy as np, yaml
d = sys.argv[1]
b = yaml.safe_load(open(f"{d}/bundle.yaml"))
h = b["output"]["halo"]
y = np.pad(np.load(f"{d}/test_output.npy"), [(0, 0), (0, 0)] + [(a, a) for a in h])
np.save(f"{d}/zoo/test_output.npy", y)
b["zoo_variant"]["test_tensor"] = {"file": "zoo/test_output.npy", "shape": list(y.shape)}
b["files"]["zoo/test_output.npy"] = hashlib.sha256(open(f"{d}/zoo/test_output.npy", "rb").read()).hexdigest()
yaml.safe_dump(b, open(f"{d}/bundle.yaml", "w"), sort_keys=False)
`;

/**
 * A writable copy of a zoo-variant bundle as earlier exports wrote it: with zoo/test_output.npy
 * (numpy's pad of test_output.npy by the halo) declared in zoo_variant.test_tensor and hashed.
 */
export function withStoredZooOutput(src: string): string {
  const dir = copyBundle(src);
  execFileSync(PYTHON, ['-c', STORE_ZOO_OUTPUT, dir], { stdio: 'pipe' });
  return dir;
}
