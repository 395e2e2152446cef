import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isRuntimeError } from '../../runtime/errors.js';
import { LocalBlockSource } from '../../runtime/executor/block-source.js';
import { DoneLog } from '../../runtime/executor/done-log.js';
import { withTempDir } from './helpers.js';

describe('DoneLog', () => {
  test('records blocks as JSON lines, reloads them, ignores a torn last line, refuses another plan', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'out.zarr.done.jsonl');
      const log = await DoneLog.open(path, 'plan-a', 20);
      await log.markDone(3);
      await log.markDone(17);
      await log.markDone(3); // idempotent
      expect((await readFile(path, 'utf8')).trim().split('\n')).toEqual([
        '{"plan":"plan-a"}',
        '{"block":3}',
        '{"block":17}',
      ]);
      await appendFile(path, '{"block":1'); // a process killed mid-write
      const again = await DoneLog.open(path, 'plan-a', 20);
      expect(again.count).toBe(2);
      expect([...Array(20).keys()].filter((i) => again.has(i))).toEqual([3, 17]);
      const other = await DoneLog.open(path, 'plan-b', 20).catch((e: unknown) => e);
      expect(isRuntimeError(other, 'ResumeMismatch')).toBe(true);
    });
  });
});

describe('LocalBlockSource', () => {
  test('hands out blocks not yet done, retries failures up to maxRetries, then gives up', async () => {
    const log = DoneLog.memory(6);
    await log.markDone(1);
    await log.markDone(4);
    const source = new LocalBlockSource(6, log, { maxRetries: 1 });
    expect(source.alreadyDone).toBe(2);
    const first = [await source.next(), await source.next()];
    expect(first).toEqual([0, 2]);
    expect(await source.fail(2, new Error('x'))).toBe('retry');
    expect(await source.next()).toBe(2);
    expect(await source.fail(2, new Error('x'))).toBe('give-up');
    await source.complete(0);
    expect(log.has(0)).toBe(true);
    expect([await source.next(), await source.next(), await source.next()]).toEqual([3, 5, undefined]);
  });
});
