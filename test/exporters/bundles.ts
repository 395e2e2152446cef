/**
 * Test bundles. `realBundle()` runs the real `emzoo export` once for the small LSD preset and keeps
 * the result under .cache/test-bundles/<hash of models/src>/ (shared by every test file; rebuilt when
 * the Python side changes). `tinyBundle()` writes a toy bundle with test/fixtures/make_bundle.py in a
 * second or two, for variants the presets cannot give (class outputs, deliberately broken nets).
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
  const cache = join(ROOT, '.cache/test-bundles', treeHash(join(ROOT, 'models/src')));
  const dir = join(cache, REAL_PRESET);
  if (existsSync(join(dir, 'bundle.yaml'))) return dir;
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, 'build-'));
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
  try {
    renameSync(join(work, REAL_PRESET), dir); // atomic: a concurrent builder's rename loses, both use one
  } catch {
    if (!existsSync(join(dir, 'bundle.yaml'))) throw new Error(`could not place the test bundle in ${dir}`);
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

export type TinyKind = 'dense' | 'classes' | 'batch-mix' | 'static' | 'untrained';

/** A toy bundle in a fresh temp folder named `id` (the folder name must equal the bundle id). */
export function tinyBundle(kind: TinyKind, id = `tiny-${kind}`): string {
  const out = join(mkdtempSync(join(tmpdir(), 'emzoo-bundle-')), id);
  const args = ['-W', 'ignore', join(ROOT, 'test/fixtures/make_bundle.py'), '--out', out];
  args.push('--kind', kind === 'classes' ? 'classes' : 'dense');
  if (kind === 'batch-mix') args.push('--batch-mix');
  if (kind === 'static') args.push('--static');
  if (kind === 'untrained') args.push('--untrained');
  execFileSync(PYTHON, args, { stdio: 'pipe', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return out;
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
