/**
 * The hash that names predict's model cache for a zip (sha256FileChunked) reads the file in chunks:
 * on a sparse 2.25 GiB file, past what readFileSync may return (2 GiB), it equals `sha256sum`. The
 * sparse file costs no disk; bytes written past 2 GiB and at the end make sure every chunk counts.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { HASH_CHUNK_BYTES, sha256FileChunked } from '../../cli/commands/model-source.js';

const dir = mkdtempSync(join(tmpdir(), 'emzoo-zip-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256sum = (path: string) => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];

test('a file of many chunks with a partial last one hashes like sha256sum', () => {
  const path = join(dir, 'small.bin');
  const bytes = Buffer.alloc(10_007);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  writeFileSync(path, bytes);
  expect(sha256FileChunked(path, 1000)).toBe(sha256sum(path));
  expect(sha256FileChunked(path)).toBe(sha256sum(path));
});

test('a sparse 2.25 GiB file (more than readFileSync may return) hashes like sha256sum', () => {
  const path = join(dir, 'sparse-2.25g.bin');
  const size = 2 ** 31 + 2 ** 28;
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    const mark = Buffer.from('emzoo marker');
    // at the start, across a chunk boundary past 2 GiB, and at the very end
    for (const at of [0, 2 ** 31 + 17 * HASH_CHUNK_BYTES - 5, size - mark.length])
      writeSync(fd, mark, 0, mark.length, at);
  } finally {
    closeSync(fd);
  }
  expect(statSync(path).size).toBe(size);
  expect(sha256FileChunked(path)).toBe(sha256sum(path));
}, 120_000);
