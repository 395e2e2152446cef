/**
 * `bioimage-export worker` processes (real children, real redis-server, real onnxruntime, zarr on
 * disk) against one machine's runBlockwise: two workers share a job; a worker SIGKILLed mid-run
 * loses its leases to the other; a re-submitted job only runs the blocks not done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readJobProgress, submitRedisJob } from '../../runtime/queue/index.js';
import { ROOT } from '../runtime/helpers.js';
import { SKIP_REASON, startRedis, type TestRedis } from './redis-server.js';
import { maxAbsDiff, readAll, referenceRun, UNET1, UNET1_MODEL, writeRaw } from './volume.js';

const SHAPE = [40, 60, 60];
const BLOCK = [26, 26, 26]; // 10³ written per block: 4·6·6 = 144 blocks
const GRID = [4, 6, 6];
const TOTAL = 144;
const GAIN = 1 / 255;

let redis: TestRedis;
let dir: string;
let reference: Float32Array;
const children: ChildProcess[] = [];

interface Worker {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; out: string; err: string }>;
  readonly started: () => boolean;
}

function startWorker(untilIdle = true): Worker {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/bioimage-export.js'),
      'worker',
      '--redis',
      redis.url,
      '--poll-ms',
      '100',
      ...(untilIdle ? ['--until-idle'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err })),
  );
  return { child, exit, started: () => err.includes('"event":"start"') };
}

const submit = (name: string, leaseMs: number) =>
  submitRedisJob(redis.client, {
    jobId: name,
    model: UNET1_MODEL,
    input: join(dir, 'raw.zarr'),
    output: join(dir, `${name}.zarr`),
    geometry: UNET1,
    blockInput: BLOCK,
    memoryBudgetBytes: 2 ** 28,
    normalization: { kind: 'scale_linear', gain: GAIN, offset: 0 },
    leaseMs,
  });

/** Blocks held by the worker with this pid (lease owner ids are host:pid:random). */
async function heldBy(job: string, pid: number): Promise<number[]> {
  const owners = await redis.client.hgetall(`emzoo:job:{${job}}:owner`);
  return Object.entries(owners)
    .filter(([, w]) => w.split(':')[1] === String(pid))
    .map(([id]) => Number(id));
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Output chunk file → block id (chunk grid = block grid: one chunk per write region). */
async function chunkMtimes(output: string): Promise<Map<number, number>> {
  const m = new Map<number, number>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name !== 'zarr.json') {
        const [z, y, x] = relative(join(output, '0/c/0'), p).split('/').map(Number) as [
          number,
          number,
          number,
        ];
        m.set((z * (GRID[1] as number) + y) * (GRID[2] as number) + x, (await stat(p)).mtimeMs);
      }
    }
  };
  await walk(join(output, '0/c'));
  return m;
}

describe.skipIf(SKIP_REASON !== undefined)('bioimage-export worker over Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'emzoo-workers-'));
    await writeRaw(join(dir, 'raw.zarr'), SHAPE);
    reference = await referenceRun(join(dir, 'raw.zarr'), join(dir, 'ref.zarr'), BLOCK, GAIN);
    expect(reference.some((v) => Math.abs(v - (reference[0] as number)) > 1e-3)).toBe(true); // not constant
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('two workers share a job; the output equals one process running runBlockwise', async () => {
    // Both workers wait for work first, so neither gets a head start; SIGTERM stops them after.
    const [a, b] = [startWorker(false), startWorker(false)];
    await waitFor('both workers to start', async () => a.started() && b.started());
    const job = await submit('two', 60_000);
    expect(job.total).toBe(TOTAL);
    await waitFor(
      'the job to finish',
      async () => (await readJobProgress(redis.client, 'two')).state !== 'running',
    );
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    const [ra, rb] = await Promise.all([a.exit, b.exit]);
    expect(ra.code, ra.err).toBe(0);
    expect(rb.code, rb.err).toBe(0);
    const p = await readJobProgress(redis.client, 'two');
    expect(p).toMatchObject({ state: 'done', done: TOTAL, failed: 0, retried: 0, handed: TOTAL });
    const perWorker = Object.values(p.workers);
    expect(perWorker).toHaveLength(2);
    expect(perWorker.every((n) => n > 0)).toBe(true);
    const said = [ra.out, rb.out].map((o) => Number(/: (\d+) blocks/.exec(o)?.[1]));
    expect(said[0] + said[1]).toBe(TOTAL);
    expect(maxAbsDiff(await readAll(join(dir, 'two.zarr')), reference)).toBeLessThan(1e-5);
  });

  test('a worker killed mid-run (SIGKILL) loses its leases; the other retries them; output still equal', async () => {
    const [a, b] = [startWorker(false), startWorker(false)];
    await waitFor('both workers to start', async () => a.started() && b.started());
    await submit('kill', 1500);
    const pidA = a.child.pid as number;
    // Kill A while it holds leases and has finished a few blocks.
    let orphaned: number[] = [];
    await waitFor('worker A to hold a lease after 4 done blocks', async () => {
      const done = Number(await redis.client.hget('emzoo:job:{kill}:counts', 'done'));
      return done >= 4 && (await heldBy('kill', pidA)).length > 0;
    });
    a.child.kill('SIGKILL');
    await a.exit;
    orphaned = await heldBy('kill', pidA);
    expect(orphaned.length).toBeGreaterThan(0);
    await waitFor(
      'the job to finish',
      async () => (await readJobProgress(redis.client, 'kill')).state !== 'running',
    );
    b.child.kill('SIGTERM');
    const rb = await b.exit;
    expect(rb.code, rb.err).toBe(0);
    const p = await readJobProgress(redis.client, 'kill');
    expect(p).toMatchObject({ state: 'done', done: TOTAL, failed: 0 });
    expect(p.retried).toBeGreaterThanOrEqual(orphaned.length);
    for (const id of orphaned) {
      // one failed attempt (the expired lease), then done by B
      expect(await redis.client.hget('emzoo:job:{kill}:attempts', String(id))).toBe('1');
      expect(await redis.client.getbit('emzoo:job:{kill}:done', id)).toBe(1);
    }
    expect(maxAbsDiff(await readAll(join(dir, 'kill.zarr')), reference)).toBeLessThan(1e-5);
  });

  test('a re-submitted job runs only the blocks not done; done chunks are not rewritten', async () => {
    await submit('resume', 1000);
    const a = startWorker();
    await waitFor(
      '10 done blocks',
      async () => Number(await redis.client.hget('emzoo:job:{resume}:counts', 'done')) >= 10,
    );
    a.child.kill('SIGKILL');
    await a.exit;
    const before = await readJobProgress(redis.client, 'resume');
    expect(before.state).toBe('running');
    const doneBefore = new Set<number>();
    for (let id = 0; id < TOTAL; id++) {
      if ((await redis.client.getbit('emzoo:job:{resume}:done', id)) === 1) doneBefore.add(id);
    }
    expect(doneBefore.size).toBe(before.done);
    const mtimes = await chunkMtimes(join(dir, 'resume.zarr'));
    await new Promise((r) => setTimeout(r, 20)); // mtime resolution
    const again = await submit('resume', 1000);
    expect(again.alreadyDone).toBe(before.done);
    const b = startWorker();
    const rb = await b.exit;
    expect(rb.code, rb.err).toBe(0);
    expect(Number(/: (\d+) blocks/.exec(rb.out)?.[1])).toBe(TOTAL - before.done);
    const after = await readJobProgress(redis.client, 'resume');
    expect(after).toMatchObject({ state: 'done', done: TOTAL, failed: 0 });
    expect(after.handed - before.handed).toBe(TOTAL - before.done);
    const now = await chunkMtimes(join(dir, 'resume.zarr'));
    expect(now.size).toBe(TOTAL);
    const rewritten = [...now].filter(([id, t]) => mtimes.get(id) !== t).map(([id]) => id);
    const notDone = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => !doneBefore.has(i));
    expect(rewritten.sort((x, y) => x - y)).toEqual(notDone);
    expect(maxAbsDiff(await readAll(join(dir, 'resume.zarr')), reference)).toBeLessThan(1e-5);
  });
});
