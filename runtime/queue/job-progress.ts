import type { Redis } from 'ioredis';
import { AbortedError } from '../errors.js';
import { ACTIVE_JOBS, jobKeys } from './keys.js';
import { QueueError } from './queue-errors.js';

export interface JobProgress {
  readonly jobId: string;
  /** 'queued/running' until every block is done or failed. */
  readonly state: 'running' | 'done' | 'failed';
  readonly total: number;
  readonly done: number;
  /** Blocks that ran out of retries (their errors are in `failures`). */
  readonly failed: number;
  readonly pending: number;
  readonly leased: number;
  /** Leases handed out so far (a block retried counts again). */
  readonly handed: number;
  readonly retried: number;
  /** Blocks completed per worker id. */
  readonly workers: Readonly<Record<string, number>>;
  /** Up to 20 failed blocks with their last error. */
  readonly failures: readonly { readonly block: number; readonly error: string }[];
}

/** The job's progress as stored in Redis (readable by anyone: coordinator, server, `redis-cli`). */
export async function readJobProgress(redis: Redis, jobId: string): Promise<JobProgress> {
  const k = jobKeys(jobId);
  const [counts, pending, leased, workers, failedIds] = await Promise.all([
    redis.hgetall(k.counts),
    redis.llen(k.pending),
    redis.zcard(k.leases),
    redis.hgetall(k.workers),
    redis.hscan(k.failed, 0, 'COUNT', 20),
  ]);
  if (counts.total === undefined) {
    throw new QueueError(
      'JobNotFound',
      `no job '${jobId}' in Redis`,
      'submit it first (bioimage-export predict --queue redis://...) or check the Redis URL and job id',
    );
  }
  const n = (v: string | undefined) => Number(v ?? 0);
  const total = n(counts.total);
  const done = n(counts.done);
  const failed = n(counts.failed);
  const pairs = failedIds[1];
  // block -1: the job as a whole failed (see failJob)
  const failures: { block: number; error: string }[] =
    counts.fatal === undefined ? [] : [{ block: -1, error: counts.fatal }];
  for (let i = 0; i + 1 < pairs.length && failures.length < 20; i += 2) {
    failures.push({ block: Number(pairs[i]), error: pairs[i + 1] as string });
  }
  return {
    jobId,
    state:
      counts.fatal !== undefined
        ? 'failed'
        : done + failed < total
          ? 'running'
          : failed > 0
            ? 'failed'
            : 'done',
    total,
    done,
    failed,
    pending,
    leased,
    handed: n(counts.handed),
    retried: n(counts.retried),
    workers: Object.fromEntries(Object.entries(workers).map(([w, c]) => [w, Number(c)])),
    failures,
  };
}

/** Polls until every block is done or failed; resolves with the final progress. */
export async function waitForJob(
  redis: Redis,
  jobId: string,
  options: { pollMs?: number; signal?: AbortSignal; onProgress?: (p: JobProgress) => void } = {},
): Promise<JobProgress> {
  const pollMs = options.pollMs ?? 500;
  for (;;) {
    const p = await readJobProgress(redis, jobId);
    options.onProgress?.(p);
    if (p.state !== 'running') return p;
    if (options.signal?.aborted) throw new AbortedError(`waiting for job ${jobId}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Ends a job that cannot run anywhere (e.g. the model does not fit its geometry): no more blocks
 * are handed out and its progress reads 'failed' with the reason. Submitting it again clears this.
 */
export async function failJob(redis: Redis, jobId: string, reason: string): Promise<void> {
  const k = jobKeys(jobId);
  await redis
    .multi()
    .hset(k.counts, { fatal: reason.slice(0, 2000), finishedAt: Date.now() })
    .del(k.pending)
    .srem(ACTIVE_JOBS, jobId)
    .exec();
}
