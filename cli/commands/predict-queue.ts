/**
 * `predict --queue redis://...`: instead of computing here, plan the job, create the output, queue
 * its blocks in Redis for `bioimage-export worker`s, and follow their progress until every block is
 * done or failed. Re-running the same command resumes (the job id comes from the output path).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportError } from '../../exporters/index.js';
import { connectRedis, QueueError, submitRedisJob, waitForJob } from '../../runtime/queue/index.js';
import type { Roi, ZarrLocation } from '../../server/index.js';
import { geometryOf, preprocessingOf } from '../../server/model-facts.js';
import type { Io } from '../io.js';
import type { ModelSource } from './model-source.js';
import { formatDuration, progressBar } from './progress-bar.js';
import { asWorkerCliError } from './worker.js';

export interface QueuedPredict {
  readonly url: string;
  readonly src: ModelSource;
  readonly input: ZarrLocation;
  readonly output: ZarrLocation;
  readonly roi: Roi | undefined;
  readonly block: readonly number[] | undefined;
  readonly uint8: boolean;
  /** Bytes for the blocks in flight of one worker (2 by default, as a local predict). */
  readonly memoryBytes: number;
  /** Voxel size found on the input (nm), if any. */
  readonly voxelNm: readonly number[] | undefined;
  readonly quiet: boolean;
}

const where = (l: ZarrLocation) => (l.path ? join(l.container, l.path) : l.container);

export async function predictQueued(io: Io, q: QueuedPredict): Promise<void> {
  try {
    await submitAndWait(io, q);
  } catch (err) {
    throw asWorkerCliError(err);
  }
}

async function submitAndWait(io: Io, q: QueuedPredict): Promise<void> {
  if (q.roi) {
    throw new ExportError('InvalidArgument', '--roi cannot be combined with --queue', {
      hint: 'crop the input to the region first, or run the ROI without --queue',
    });
  }
  const b = q.src.model;
  if (q.output.path && !existsSync(join(q.output.container, 'zarr.json'))) {
    // a zarr v3 group at the container root, so out.zarr/name sits in a valid hierarchy
    mkdirSync(q.output.container, { recursive: true });
    writeFileSync(
      join(q.output.container, 'zarr.json'),
      JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }),
    );
  }
  const redis = await connectRedis(q.url);
  const ctrl = new AbortController();
  const stop = () => ctrl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const bar = progressBar(io.err, process.stderr.isTTY === true, q.quiet);
  const t0 = performance.now();
  try {
    const job = await submitRedisJob(redis, {
      model: join(b.dir, b.weights.onnx.file),
      input: where(q.input),
      output: where(q.output),
      geometry: geometryOf(b),
      outputDtype: q.uint8 ? 'uint8' : 'float32',
      memoryBudgetBytes: q.memoryBytes / 2,
      blockInput: q.block,
      normalization: { kind: 'scale_linear', ...preprocessingOf(b) },
      ome: {
        voxelSize: [...(q.voxelNm ?? b.input.voxel_size_nm)],
        channelNames: [...b.output.channel_names],
        name: `${q.src.id} prediction`,
      },
      attributes: { emzoo: { model: q.src.id, input: where(q.input), roi: null } },
    });
    io.err(
      `queued job ${job.jobId}: ${job.enqueued} of ${job.total} blocks (${job.alreadyDone} already done); start workers with: bioimage-export worker --redis ${q.url}\n`,
    );
    const p = await waitForJob(redis, job.jobId, {
      signal: ctrl.signal,
      onProgress: (s) => {
        const el = performance.now() - t0;
        const fresh = s.done - job.alreadyDone;
        bar.update({
          done: s.done,
          total: s.total,
          skipped: job.alreadyDone,
          etaMs: fresh > 0 ? (el / fresh) * (s.total - s.done) : Number.NaN,
        });
      },
    });
    bar.end();
    if (p.state === 'failed') {
      const first = p.failures
        .slice(0, 3)
        .map((f) => (f.block < 0 ? f.error : `block ${f.block}: ${f.error}`))
        .join('; ');
      throw new QueueError(
        'JobFailed',
        `job ${p.jobId} failed (${p.failed} of ${p.total} blocks failed): ${first}`,
        'fix the cause, then run the same command again: done blocks are kept, failed ones get fresh retries',
      );
    }
    io.out(
      `wrote ${where(q.output)}: ${p.total} blocks of [${job.plan.blockInput}] by ${Object.keys(p.workers).length} workers (${p.done - job.alreadyDone} computed, ${job.alreadyDone} resumed, ${p.retried} retried) in ${formatDuration(performance.now() - t0)}\n`,
    );
  } finally {
    bar.end();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    redis.disconnect();
  }
}
