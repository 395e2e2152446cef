/**
 * Redis key names of one queued job. Every key of a job shares the hash tag `{id}`, so a job's
 * scripts touch one slot (works on Redis Cluster too); `emzoo:jobs:active` lists unfinished jobs.
 */
export const ACTIVE_JOBS = 'emzoo:jobs:active';

export interface JobKeys {
  /** JSON job record (model, input, output, geometry, plan). */
  readonly record: string;
  /** List of block ids waiting; RPOP takes the next, retries are RPUSHed so they go first. */
  readonly pending: string;
  /** Sorted set: leased block id → lease expiry (ms, Redis clock). */
  readonly leases: string;
  /** Hash: leased block id → worker id holding it. */
  readonly owner: string;
  /** Bitmap: bit id = 1 once the block's output is written. */
  readonly done: string;
  /** Hash: total, done, failed, handed (leases given out), retried, finishedAt. */
  readonly counts: string;
  /** Hash: block id → failed attempts (lease expiries included). */
  readonly attempts: string;
  /** Hash: block id → error text of a block that ran out of retries. */
  readonly failed: string;
  /** Hash: worker id → blocks it completed. */
  readonly workers: string;
}

const JOB_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

export function jobKeys(id: string): JobKeys {
  const p = `emzoo:job:{${id}}:`;
  return {
    record: `${p}record`,
    pending: `${p}pending`,
    leases: `${p}leases`,
    owner: `${p}owner`,
    done: `${p}done`,
    counts: `${p}counts`,
    attempts: `${p}attempts`,
    failed: `${p}failed`,
    workers: `${p}workers`,
  };
}
