/**
 * The queue's semantics against a real redis-server, in-process: leases, retries bounded then
 * failed with the error, expired leases of a dead holder re-queued, progress, re-submit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  isQueueError,
  RedisBlockSource,
  readJobProgress,
  runRedisWorker,
  submitRedisJob,
} from '../../runtime/queue/index.js';
import { SKIP_REASON, startRedis, type TestRedis } from './redis-server.js';
import { UNET1, UNET1_MODEL, writeRaw } from './volume.js';

let redis: TestRedis;
let dir: string;

describe.skipIf(SKIP_REASON !== undefined)('RedisBlockSource', () => {
  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'emzoo-queue-'));
    await writeRaw(join(dir, 'raw.zarr'), [20, 30, 30]);
  });
  afterAll(async () => {
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const submit = (name: string, extra: { maxRetries?: number; leaseMs?: number } = {}) =>
    submitRedisJob(redis.client, {
      jobId: name,
      model: UNET1_MODEL,
      input: join(dir, 'raw.zarr'),
      output: join(dir, `${name}.zarr`),
      geometry: UNET1,
      blockInput: [26, 26, 26], // 10³ output per block: 2·3·3 blocks
      memoryBudgetBytes: 2 ** 28,
      ...extra,
    });
  const source = (
    client: Redis,
    jobId: string,
    workerId: string,
    o: { maxRetries?: number; leaseMs?: number } = {},
  ) =>
    new RedisBlockSource(client, {
      jobId,
      total: 18,
      alreadyDone: 0,
      workerId,
      maxRetries: o.maxRetries ?? 2,
      leaseMs: o.leaseMs ?? 60_000,
    });

  test('blocks are leased once each, in order, and completed exactly once', async () => {
    const r = await submit('lease');
    expect(r).toMatchObject({ total: 18, enqueued: 18, alreadyDone: 0 });
    const a = source(redis.client, 'lease', 'A');
    const b = source(redis.client, 'lease', 'B');
    const got: number[] = [];
    for (;;) {
      const id = await (got.length % 2 ? b : a).next();
      if (id === undefined) break;
      got.push(id);
    }
    expect(got).toEqual(Array.from({ length: 18 }, (_, i) => i));
    let p = await readJobProgress(redis.client, 'lease');
    expect(p).toMatchObject({ state: 'running', done: 0, leased: 18, pending: 0, handed: 18 });
    for (const id of got) await (id % 2 ? b : a).complete(id);
    await a.complete(0); // idempotent
    p = await readJobProgress(redis.client, 'lease');
    expect(p).toMatchObject({ state: 'done', done: 18, leased: 0, failed: 0, workers: { A: 9, B: 9 } });
    expect(await redis.client.sismember('emzoo:jobs:active', 'lease')).toBe(0);
    await a.close();
    await b.close();
  });

  test('a failing block is retried maxRetries times, then marked failed with its error', async () => {
    await submit('fail', { maxRetries: 2 });
    const a = source(redis.client, 'fail', 'A', { maxRetries: 2 });
    const verdicts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await a.next();
      expect(id).toBe(0); // retries go to the front of the queue
      verdicts.push(await a.fail(0, new Error(`disk full #${i}`)));
    }
    expect(verdicts).toEqual(['retry', 'retry', 'give-up']);
    expect(await a.next()).toBe(1); // the failed block is not handed out again
    const p = await readJobProgress(redis.client, 'fail');
    expect(p).toMatchObject({ failed: 1, retried: 2, state: 'running' });
    expect(p.failures).toEqual([
      { block: 0, error: expect.stringMatching(/failed 3 times.*\(A\).*disk full #2/) },
    ]);
    await a.close();
  });

  test("a dead holder's lease expires and another worker retries the block", async () => {
    await submit('dead', { leaseMs: 300 });
    const doomed = new Redis(redis.url);
    doomed.on('error', () => undefined);
    const a = source(doomed, 'dead', 'A', { leaseMs: 300 });
    expect(await a.next()).toBe(0);
    doomed.disconnect(); // the holder dies: no renewals, no completion
    const b = source(redis.client, 'dead', 'B', { leaseMs: 300 });
    expect(await b.next()).toBe(1); // block 0 still leased to A
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.next()).toBe(0); // A's lease expired: re-queued first
    expect(await redis.client.hget('emzoo:job:{dead}:attempts', '0')).toBe('1');
    // ...while a live holder keeps its lease by renewing it (every leaseMs/3)
    await new Promise((r) => setTimeout(r, 700));
    expect(await b.next()).toBe(2);
    expect(await redis.client.hget('emzoo:job:{dead}:owner', '0')).toBe('B');
    expect((await readJobProgress(redis.client, 'dead')).retried).toBe(1);
    await b.close();
    // graceful close gives held blocks back without counting an attempt
    expect(await redis.client.hget('emzoo:job:{dead}:attempts', '2')).toBeNull();
    expect((await readJobProgress(redis.client, 'dead')).pending).toBe(18);
  });

  test('a re-submit skips done blocks, re-queues failed ones, and refuses another plan', async () => {
    await submit('again', { maxRetries: 0 });
    const a = source(redis.client, 'again', 'A', { maxRetries: 0 });
    for (let i = 0; i < 5; i++) await a.complete((await a.next()) as number);
    expect(await a.next()).toBe(5);
    expect(await a.fail(5, new Error('boom'))).toBe('give-up');
    await a.close();
    const r = await submit('again', { maxRetries: 0 });
    expect(r).toMatchObject({ alreadyDone: 5, enqueued: 13 });
    expect(await readJobProgress(redis.client, 'again')).toMatchObject({ done: 5, failed: 0, pending: 13 });
    const err = await submitRedisJob(redis.client, {
      jobId: 'again',
      model: UNET1_MODEL,
      input: join(dir, 'raw.zarr'),
      output: join(dir, 'again.zarr'),
      geometry: UNET1,
      blockInput: [30, 30, 30],
      memoryBudgetBytes: 2 ** 28,
    }).catch((e: unknown) => e);
    expect(isQueueError(err, 'JobConflict'), String(err)).toBe(true);
    const missing = await readJobProgress(redis.client, 'nope').catch((e: unknown) => e);
    expect(isQueueError(missing, 'JobNotFound')).toBe(true);
  });

  test('a worker stopped in the middle of a pass still counts the blocks it completed', async () => {
    await redis.client.del('emzoo:jobs:active'); // only this job
    await submit('stopped');
    const ctrl = new AbortController();
    const events: Record<string, unknown>[] = [];
    const r = await runRedisWorker(redis.client, {
      concurrency: 1,
      pollMs: 50,
      signal: ctrl.signal,
      log: (e) => {
        events.push(e);
        if (e.event === 'block') ctrl.abort(); // as SIGTERM right after a block was recorded
      },
    });
    const recorded = events.filter((e) => e.event === 'block').length;
    expect(recorded).toBeGreaterThanOrEqual(1);
    expect(r.blocks).toBe(recorded);
    const p = await readJobProgress(redis.client, 'stopped');
    expect(p.done).toBe(r.blocks);
    expect(p.workers[r.workerId]).toBe(r.blocks);
    expect(p.pending).toBe(18 - r.blocks); // the block read ahead was given back
  });

  test('a job whose model does not fit its geometry fails as a whole; a worker does not spin on it', async () => {
    await redis.client.del('emzoo:jobs:active'); // earlier tests leave jobs half done on purpose
    await submitRedisJob(redis.client, {
      jobId: 'misfit',
      model: UNET1_MODEL,
      input: join(dir, 'raw.zarr'),
      output: join(dir, 'misfit.zarr'),
      geometry: { ...UNET1, outputChannels: 2 }, // the model has 3
      blockInput: [26, 26, 26],
      memoryBudgetBytes: 2 ** 28,
    });
    const events: Record<string, unknown>[] = [];
    const r = await runRedisWorker(redis.client, { untilIdle: true, pollMs: 50, log: (e) => events.push(e) });
    expect(r.blocks).toBe(0);
    const p = await readJobProgress(redis.client, 'misfit');
    expect(p.state).toBe('failed');
    expect(p.failures[0]).toEqual({ block: -1, error: expect.stringMatching(/\[ShapeMismatch\]/) });
    expect(events.filter((e) => e.event === 'job-failed')).toHaveLength(1);
  });
});
