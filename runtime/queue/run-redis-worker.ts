import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { loadBackend } from '../backend/load-backend.js';
import type { InferenceBackend } from '../backend/types.js';
import { isRuntimeError } from '../errors.js';
import { runBlockwise } from '../executor/run-blockwise.js';
import { blockBytes } from '../tiling/plan.js';
import { failJob } from './job-progress.js';
import { parseJobRecord, type RedisJobRecord } from './job-record.js';
import { ACTIVE_JOBS, jobKeys } from './keys.js';
import { runScript } from './lua-scripts.js';
import { RedisBlockSource } from './redis-block-source.js';

export interface RedisWorkerOptions {
  /** Unique id recorded as lease holder; default host:pid:random. */
  readonly workerId?: string;
  /** Blocks in flight per worker (read + infer + write overlap); default 2. */
  readonly concurrency?: number;
  /** onnxruntime worker threads per model; default 1. */
  readonly threads?: number;
  /** Execution provider of this worker (a GPU host says 'cuda'); default: the job's, else 'cpu'. */
  readonly device?: 'cpu' | 'cuda';
  /** How often an idle worker looks for work (new jobs, expired leases); default 1000 ms. */
  readonly pollMs?: number;
  /** Return once no job is active (every block done or failed) instead of waiting for new jobs. */
  readonly untilIdle?: boolean;
  /** After a job cannot even start here (model or input unreadable), skip it for this long; default 30 s. */
  readonly jobBackoffMs?: number;
  readonly signal?: AbortSignal;
  /** Structured events (one per job start/end/error, and per block). */
  readonly log?: (event: Record<string, unknown>) => void;
}

export interface RedisWorkerResult {
  readonly workerId: string;
  /** Blocks this worker computed and completed. */
  readonly blocks: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const message = (err: unknown) =>
  `${err instanceof Error && '_tag' in err ? `[${String((err as { _tag: unknown })._tag)}] ` : ''}${
    err instanceof Error ? err.message : String(err)
  }`;

/**
 * A stateless worker: repeatedly picks an active job that has work (pending blocks or expired
 * leases), runs runBlockwise over it with a RedisBlockSource (the job record gives model, input,
 * output and plan), and moves on. Everything durable is in Redis and the output zarr, so the
 * process can be killed at any point: its leases expire and other workers redo those blocks.
 */
export async function runRedisWorker(redis: Redis, o: RedisWorkerOptions = {}): Promise<RedisWorkerResult> {
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const concurrency = o.concurrency ?? 2;
  const pollMs = o.pollMs ?? 1000;
  const backoffMs = o.jobBackoffMs ?? 30_000;
  const log = o.log ?? (() => undefined);
  const backends = new Map<string, Promise<InferenceBackend>>();
  const skipUntil = new Map<string, number>();
  let blocks = 0;

  const backendFor = (r: RedisJobRecord) => {
    const device = o.device ?? r.backendOptions?.device ?? 'cpu';
    const key = `${r.model}\0${device}`;
    let b = backends.get(key);
    if (!b) {
      b = loadBackend(r.model, { workers: o.threads ?? 1, device });
      b.catch(() => backends.delete(key)); // a failed load is retried on the next visit
      backends.set(key, b);
    }
    return b;
  };

  const pickJob = async (): Promise<string | undefined> => {
    const ids = await redis.smembers(ACTIVE_JOBS);
    // Random order spreads many workers over many jobs.
    for (const id of ids.sort(() => Math.random() - 0.5)) {
      if ((skipUntil.get(id) ?? 0) > Date.now()) continue;
      if ((await runScript(redis, 'emzooHasWork', jobKeys(id), [])) === 1) return id;
    }
    return undefined;
  };

  const runJob = async (jobId: string) => {
    const k = jobKeys(jobId);
    const text = await redis.get(k.record);
    if (text === null) {
      await redis.srem(ACTIVE_JOBS, jobId); // keys deleted by hand: nothing to run
      return;
    }
    const r = parseJobRecord(jobId, text);
    let backend: InferenceBackend;
    try {
      backend = await backendFor(r);
    } catch (err) {
      skipUntil.set(jobId, Date.now() + backoffMs);
      log({ event: 'job-error', job: jobId, error: message(err), skippedForMs: backoffMs });
      return;
    }
    const source = new RedisBlockSource(redis, {
      jobId,
      total: r.total,
      alreadyDone: Number((await redis.hget(k.counts, 'done')) ?? 0),
      workerId,
      maxRetries: r.maxRetries,
      leaseMs: r.leaseMs,
    });
    log({ event: 'job', job: jobId, total: r.total, done: source.alreadyDone });
    try {
      const res = await runBlockwise({
        backend,
        geometry: r.geometry,
        input: r.input,
        output: r.output,
        outputDtype: r.outputDtype,
        blockInput: r.blockInput,
        memoryBudgetBytes: blockBytes(r.geometry, r.blockInput) * concurrency,
        padding: r.padding,
        normalization: { kind: 'scale_linear', ...r.normalization },
        maxInFlight: concurrency,
        source,
        signal: o.signal,
        // Counted per completed block, not from the pass's result: a pass stopped by the signal
        // (SIGTERM while waiting for more blocks) still did the blocks it recorded as done.
        onProgress: (p) => {
          blocks++;
          log({ event: 'block', job: jobId, block: p.blockId });
        },
      });
      if (res.plan.blockCount !== r.total) {
        // Cannot happen with one emzoo version; guards against a worker planning differently.
        throw new Error(`planned ${res.plan.blockCount} blocks, the job has ${r.total}`);
      }
      await source.close();
      log({ event: 'job-pass', job: jobId, computed: res.processed });
    } catch (err) {
      if (o.signal?.aborted) {
        await source.close(); // give held blocks back at once
        return;
      }
      // Held blocks (e.g. a shape mismatch skips fail()) count a failed attempt each.
      await source.close(err);
      if (isRuntimeError(err, 'ShapeMismatch')) {
        // The model does not fit the job's geometry or input: the same on every host, so retrying
        // cannot help. Fail the job as a whole instead of leaving it active forever.
        await failJob(redis, jobId, message(err));
        log({ event: 'job-failed', job: jobId, error: message(err) });
        return;
      }
      // Failing before any block was leased is about this host (model, input, output unreadable
      // here): back off from the job, leave it to other workers, instead of spinning on it.
      const hostLevel = source.leasedCount === 0;
      if (hostLevel) skipUntil.set(jobId, Date.now() + backoffMs);
      log({
        event: 'job-error',
        job: jobId,
        error: message(err),
        ...(hostLevel ? { skippedForMs: backoffMs } : {}),
      });
    }
  };

  try {
    while (!o.signal?.aborted) {
      let jobId: string | undefined;
      try {
        jobId = await pickJob();
        if (jobId !== undefined) {
          await runJob(jobId);
          continue;
        }
        if (o.untilIdle && (await redis.scard(ACTIVE_JOBS)) === 0) break;
      } catch (err) {
        // Redis away for longer than ioredis' retries, or an unusable job record: log, back off,
        // go on (a worker outlives a Redis restart; a bad job does not stop the others).
        if (jobId !== undefined) skipUntil.set(jobId, Date.now() + backoffMs);
        log({ event: 'error', ...(jobId ? { job: jobId } : {}), error: message(err) });
        await sleep(Math.max(pollMs, 2000), o.signal);
        continue;
      }
      await sleep(pollMs, o.signal);
    }
  } finally {
    for (const b of backends.values()) await b.then((x) => x.dispose()).catch(() => undefined);
  }
  return { workerId, blocks };
}
