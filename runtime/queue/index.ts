/**
 * runtime/queue: the blockwise executor over a Redis queue, for many machines.
 *
 * ```ts
 * import Redis from 'ioredis';
 * const redis = new Redis('redis://queue:6379');
 * // coordinator (once): plan, create the output, queue the blocks not done
 * const { jobId } = await submitRedisJob(redis, { model, input, output, geometry, memoryBudgetBytes: 2 ** 30 });
 * // workers (any number, any host seeing the same paths): `bioimage-export worker --redis redis://queue:6379`
 * const final = await waitForJob(redis, jobId, { onProgress: (p) => console.log(p.done, '/', p.total) });
 * ```
 * @module
 */
export { connectRedis } from './connect-redis.js';
export { failJob, type JobProgress, readJobProgress, waitForJob } from './job-progress.js';
export { parseJobRecord, type RedisJobRecord } from './job-record.js';
export { ACTIVE_JOBS, isJobId, type JobKeys, jobKeys } from './keys.js';
export { isQueueError, QueueError, type QueueErrorTag } from './queue-errors.js';
export { RedisBlockSource, type RedisBlockSourceOptions } from './redis-block-source.js';
export { type RedisWorkerOptions, type RedisWorkerResult, runRedisWorker } from './run-redis-worker.js';
export { defaultJobId, type SubmitJobOptions, type SubmitJobResult, submitRedisJob } from './submit-job.js';
