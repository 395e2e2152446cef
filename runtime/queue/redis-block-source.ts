import type { Redis } from 'ioredis';
import type { BlockSource } from '../executor/block-source.js';
import { ACTIVE_JOBS, type JobKeys, jobKeys } from './keys.js';
import { runScript } from './lua-scripts.js';

export interface RedisBlockSourceOptions {
  readonly jobId: string;
  readonly total: number;
  readonly alreadyDone: number;
  /** Unique per worker process (host:pid:random), recorded as the holder of its leases. */
  readonly workerId: string;
  readonly maxRetries: number;
  readonly leaseMs: number;
}

function errorText(err: unknown): string {
  const tag = err instanceof Error && '_tag' in err ? `[${String((err as { _tag: unknown })._tag)}] ` : '';
  return `${tag}${err instanceof Error ? err.message : String(err)}`.slice(0, 2000);
}

/**
 * A BlockSource over a job's Redis queue: `next` leases a block (visibility timeout `leaseMs`,
 * renewed every leaseMs/3 while this process holds it), `complete` sets its done bit, `fail`
 * re-queues it until `maxRetries` failed attempts, then records it failed with the error.
 * A worker that dies stops renewing; the next `next` of any worker finds the expired lease and
 * re-queues the block. `next` returns undefined when nothing can be leased right now (other
 * workers may still hold leases): the worker loop decides whether to wait (see runRedisWorker).
 */
export class RedisBlockSource implements BlockSource {
  readonly total: number;
  readonly alreadyDone: number;
  readonly #redis: Redis;
  readonly #o: RedisBlockSourceOptions;
  readonly #keys: JobKeys;
  readonly #held = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  #leased = 0;

  constructor(redis: Redis, options: RedisBlockSourceOptions) {
    this.#redis = redis;
    this.#o = options;
    this.#keys = jobKeys(options.jobId);
    this.total = options.total;
    this.alreadyDone = options.alreadyDone;
    this.#timer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.#timer.unref();
  }

  /** Leases this source obtained so far. */
  get leasedCount(): number {
    return this.#leased;
  }

  /** Block ids this worker holds leases on right now. */
  get held(): readonly number[] {
    return [...this.#held];
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0) return;
    // A failed renewal (Redis briefly away) is retried next tick; the lease has 3 ticks of slack.
    await runScript(this.#redis, 'emzooRenew', this.#keys, [
      this.#o.leaseMs,
      this.#o.workerId,
      ...this.#held,
    ]).catch(() => undefined);
  }

  async next(signal?: AbortSignal): Promise<number | undefined> {
    if (signal?.aborted) return undefined;
    const r = (await runScript(this.#redis, 'emzooNext', this.#keys, [
      this.#o.leaseMs,
      this.#o.workerId,
      this.#o.maxRetries,
      ACTIVE_JOBS,
      this.#o.jobId,
    ])) as [string, string?];
    if (r[0] !== 'block') return undefined;
    const id = Number(r[1]);
    this.#held.add(id);
    this.#leased++;
    return id;
  }

  async complete(blockId: number): Promise<void> {
    await runScript(this.#redis, 'emzooComplete', this.#keys, [
      blockId,
      this.#o.workerId,
      ACTIVE_JOBS,
      this.#o.jobId,
    ]);
    this.#held.delete(blockId);
  }

  async fail(blockId: number, error: unknown): Promise<'retry' | 'give-up'> {
    const r = (await runScript(this.#redis, 'emzooFail', this.#keys, [
      blockId,
      this.#o.workerId,
      this.#o.maxRetries,
      errorText(error),
      ACTIVE_JOBS,
      this.#o.jobId,
    ])) as 'retry' | 'give-up';
    this.#held.delete(blockId);
    return r;
  }

  /**
   * Stops renewing. Blocks still held are failed with `error` (counted as attempts) or, without
   * one, given back untouched (graceful shutdown: another worker takes them at once).
   */
  async close(error?: unknown): Promise<void> {
    clearInterval(this.#timer);
    const held = [...this.#held];
    this.#held.clear();
    if (held.length === 0) return;
    if (error === undefined) {
      await runScript(this.#redis, 'emzooRelease', this.#keys, [this.#o.workerId, ...held]);
    } else {
      for (const id of held) {
        await runScript(this.#redis, 'emzooFail', this.#keys, [
          id,
          this.#o.workerId,
          this.#o.maxRetries,
          errorText(error),
          ACTIVE_JOBS,
          this.#o.jobId,
        ]);
      }
    }
  }
}
