import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/runtime');
export const VENV_PYTHON = join(ROOT, '.venv/bin/python');

const run = promisify(execFile);

/** Runs a Python snippet with the project venv; argv[1..] are `args`. Returns stdout. */
export async function python(code: string, args: string[] = [], exe = VENV_PYTHON): Promise<string> {
  const { stdout } = await run(exe, ['-c', code, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'emzoo-runtime-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
