import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { BackendOptions } from '../backend/types.js';
import { ShapeMismatchError, VolumeError } from '../errors.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import { type Normalization, resolveNormalization } from '../tiling/normalize.js';
import type { PadMode } from '../tiling/padding.js';
import { planTiles, type TilePlan } from '../tiling/plan.js';
import { type Compressor, createVolume, openVolumeWriter } from '../volumes/create-volume.js';
import type { OmeImageOptions } from '../volumes/ome.js';
import { openVolume } from '../volumes/open-volume.js';
import { isRemote } from '../volumes/store.js';
import type { RedisJobRecord } from './job-record.js';
import { ACTIVE_JOBS, isJobId, jobKeys } from './keys.js';
import { QueueError } from './queue-errors.js';

export interface SubmitJobOptions {
  /** Job id; default derived from the output path, so submitting the same output again resumes it. */
  readonly jobId?: string;
  /** ONNX model path, as every worker sees it. */
  readonly model: string;
  readonly backendOptions?: Pick<BackendOptions, 'device'>;
  /** Input volume path (shared filesystem) or http(s) URL: [z,y,x] or [c,z,y,x]. */
  readonly input: string;
  /** Local path (shared filesystem) of the OME-Zarr output; created here, workers reopen it. */
  readonly output: string;
  readonly geometry: ModelGeometry;
  readonly outputDtype?: 'float32' | 'uint8';
  /** Bytes one block may use on a worker (decides the block size unless blockInput is given). */
  readonly memoryBudgetBytes: number;
  readonly activationFactor?: number;
  readonly blockInput?: readonly number[];
  readonly padding?: PadMode;
  readonly normalization?: Normalization;
  /** Failed attempts (errors or expired leases) per block before it is marked failed; default 2. */
  readonly maxRetries?: number;
  /** Lease (visibility timeout) per block; default 60 s. Workers renew it every leaseMs/3. */
  readonly leaseMs?: number;
  readonly compressor?: Compressor;
  readonly ome?: Omit<OmeImageOptions, 'channelAxis' | 'spatialAxes' | 'datasetPath'>;
  readonly attributes?: Record<string, unknown>;
}

export interface SubmitJobResult {
  readonly jobId: string;
  readonly plan: TilePlan;
  readonly total: number;
  /** Blocks already done in Redis (skipped). */
  readonly alreadyDone: number;
  /** Blocks put in the queue by this call. */
  readonly enqueued: number;
}

const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

/** `<output name>-<hash of the absolute output path>`, safe as a Redis key part. */
export function defaultJobId(output: string): string {
  const name = basename(resolve(output))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 48);
  return `${name}-${sha(resolve(output)).slice(0, 10)}`;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * The coordinator's side: plans the job once (block size, normalisation), creates the output,
 * stores the job record, and queues every block not yet done. Submitting an existing job again
 * (same plan) re-queues what is not done — including blocks that failed, with fresh retries — and
 * skips done blocks; a different plan under the same id is a JobConflict.
 */
export async function submitRedisJob(redis: Redis, o: SubmitJobOptions): Promise<SubmitJobResult> {
  const jobId = o.jobId ?? defaultJobId(o.output);
  if (!isJobId(jobId)) {
    throw new QueueError(
      'JobConflict',
      `job id '${jobId}' is not usable`,
      'use 1-128 letters, digits, dots, dashes or underscores',
    );
  }
  if (isRemote(o.output)) {
    throw new VolumeError(o.output, 'outputs are written to local directories', 'give a shared local path');
  }
  const g = o.geometry;
  const input = await openVolume(o.input);
  const rank = g.minInput.length;
  const lead = input.shape.length - rank;
  if (lead < 0 || lead > 1 || (lead === 1 ? input.shape[0] : 1) !== g.inputChannels) {
    throw new ShapeMismatchError(
      `input volume ${input.location}`,
      `[${g.inputChannels}, z, y, x]${g.inputChannels === 1 ? ' or [z, y, x]' : ''}`,
      input.shape,
      "give the volume the model's input channels as a leading axis",
    );
  }
  const volumeShape = input.shape.slice(lead);
  const plan = planTiles(volumeShape, g, {
    memoryBudgetBytes: o.memoryBudgetBytes,
    activationFactor: o.activationFactor,
    outputBytes: (o.outputDtype ?? 'float32') === 'uint8' ? 1 : 4,
    blockInput: o.blockInput,
  });
  const norm = await resolveNormalization(
    o.normalization ?? { kind: 'scale_linear', gain: 1, offset: 0 },
    input,
    {
      spatialAxes: rank,
    },
  );
  const output = resolve(o.output);
  const model = resolve(o.model);
  const inputLoc = isRemote(o.input) ? o.input : resolve(o.input);
  const dtype = o.outputDtype ?? 'float32';
  const padding = o.padding ?? 'zero';
  const fingerprint = sha({
    model,
    input: inputLoc,
    output,
    volumeShape,
    blockInput: plan.blockInput,
    stride: plan.stride,
    geometry: g,
    dtype,
    padding,
    norm,
  }).slice(0, 16);
  const record: RedisJobRecord = {
    version: 1,
    id: jobId,
    model,
    ...(o.backendOptions ? { backendOptions: o.backendOptions } : {}),
    input: inputLoc,
    output,
    geometry: g,
    blockInput: plan.blockInput,
    outputDtype: dtype,
    padding,
    normalization: norm,
    total: plan.blockCount,
    maxRetries: o.maxRetries ?? 2,
    leaseMs: o.leaseMs ?? 60_000,
    fingerprint,
    createdAt: new Date().toISOString(),
  };

  const k = jobKeys(jobId);
  const previous = await redis.get(k.record);
  const prevPlan =
    previous === null ? undefined : (JSON.parse(previous) as { fingerprint?: string }).fingerprint;
  if (prevPlan !== undefined && prevPlan !== fingerprint) {
    throw new QueueError(
      'JobConflict',
      `job '${jobId}' already exists in Redis with another plan (${prevPlan}, now ${fingerprint})`,
      'give another --output or --job id, or delete the old job (its keys are emzoo:job:{id}:*)',
    );
  }
  const outShape = [g.outputChannels, ...volumeShape];
  const chunks = [g.outputChannels, ...plan.stride]; // one chunk per write region: blocks never share one
  if (await exists(output)) {
    if (previous === null) {
      throw new VolumeError(
        o.output,
        'exists but Redis has no job record for it (nothing says which blocks are done)',
        'choose a new output path, or delete the old output',
      );
    }
    await openVolumeWriter(output, { shape: outShape, chunks, dtype });
  } else {
    const spatial = (v: readonly number[] | undefined) =>
      v && v.length >= rank ? v.slice(-rank) : undefined;
    const voxelSize = spatial(input.placement?.scale);
    const translation = spatial(input.placement?.translation);
    await createVolume(output, {
      shape: outShape,
      chunks,
      dtype,
      compressor: o.compressor,
      ome: {
        ...(voxelSize ? { voxelSize } : {}),
        ...(translation ? { translation } : {}),
        ...o.ome,
        channelAxis: true,
      },
      attributes: { ...o.attributes, emzoo_job: jobId, emzoo_run: fingerprint },
    });
  }

  // Rebuild the queue from the done bitmap: not done and not leased (a live lease stays with its holder).
  const [doneBits, leased] = await Promise.all([redis.getBuffer(k.done), redis.zrange(k.leases, '0', '-1')]);
  // Redis bitmaps are MSB-first: bit `id` is bit 7 - id%8 of byte id/8.
  const isDone = (id: number) =>
    doneBits !== null && (((doneBits[id >> 3] ?? 0) >> (7 - (id & 7))) & 1) === 1;
  const held = new Set(leased.map(Number));
  let alreadyDone = 0;
  let enqueued = 0;
  await redis.multi().set(k.record, JSON.stringify(record)).del(k.pending, k.failed, k.attempts).exec();
  let batch: number[] = [];
  const flush = async () => {
    if (batch.length > 0) await redis.lpush(k.pending, ...batch.map(String));
    batch = [];
  };
  for (let id = 0; id < plan.blockCount; id++) {
    if (isDone(id)) alreadyDone++;
    else if (!held.has(id)) {
      batch.push(id);
      enqueued++;
      if (batch.length >= 10_000) await flush();
    }
  }
  await flush();
  const m = redis
    .multi()
    .hset(k.counts, { total: plan.blockCount, done: alreadyDone, failed: 0 })
    .hdel(k.counts, 'finishedAt', 'fatal');
  if (alreadyDone < plan.blockCount) m.sadd(ACTIVE_JOBS, jobId);
  else m.srem(ACTIVE_JOBS, jobId).hset(k.counts, 'finishedAt', Date.now());
  await m.exec();
  return { jobId, plan, total: plan.blockCount, alreadyDone, enqueued };
}
