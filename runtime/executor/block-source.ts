import type { DoneLog } from './done-log.js';

/**
 * Where an executor gets block ids and reports them. The local source below walks the plan and
 * records done blocks in a DoneLog; a distributed source (e.g. a Redis/BullMQ queue with leases)
 * implements the same contract, so the executor loop does not change.
 */
export interface BlockSource {
  /** Blocks in the whole job. */
  readonly total: number;
  /** Blocks already done when this source was opened (skipped by this run). */
  readonly alreadyDone: number;
  /** The next block to process, or undefined when none are left for this worker. */
  next(signal?: AbortSignal): Promise<number | undefined>;
  /** The block's output is durably written; never hand it out again. */
  complete(blockId: number): Promise<void>;
  /** The block failed; 'retry' puts it back, 'give-up' means the job must fail. */
  fail(blockId: number, error: unknown): Promise<'retry' | 'give-up'>;
}

/** Blocks 0..total-1 in order, skipping those in the log; bounded memory (a cursor plus retries). */
export class LocalBlockSource implements BlockSource {
  readonly total: number;
  readonly alreadyDone: number;
  readonly #log: DoneLog;
  readonly #maxRetries: number;
  readonly #retries = new Map<number, number>();
  readonly #again: number[] = [];
  #cursor = 0;

  constructor(total: number, log: DoneLog, options: { maxRetries?: number } = {}) {
    this.total = total;
    this.#log = log;
    this.alreadyDone = log.count;
    this.#maxRetries = options.maxRetries ?? 2;
  }

  async next(): Promise<number | undefined> {
    const again = this.#again.shift();
    if (again !== undefined) return again;
    while (this.#cursor < this.total && this.#log.has(this.#cursor)) this.#cursor++;
    if (this.#cursor >= this.total) return undefined;
    return this.#cursor++;
  }

  async complete(blockId: number): Promise<void> {
    this.#retries.delete(blockId);
    await this.#log.markDone(blockId);
  }

  async fail(blockId: number, _error?: unknown): Promise<'retry' | 'give-up'> {
    const n = (this.#retries.get(blockId) ?? 0) + 1;
    if (n > this.#maxRetries) return 'give-up';
    this.#retries.set(blockId, n);
    this.#again.push(blockId);
    return 'retry';
  }
}
