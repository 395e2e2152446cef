/**
 * Worker-thread entry for startBlockwiseJob: loads the model, runs runBlockwise, posts progress.
 * Everything that blocks (padding gather, zarr encode/decode) happens here, not on the caller's loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend } from '../backend/load-backend.js';
import type { BlockwiseJobOptions, JobMessage } from './blockwise-job.js';
import { serializeAnyError } from './job-errors.js';
import { runBlockwise } from './run-blockwise.js';

const port = parentPort;
if (!port) throw new Error('job-worker must run in a worker thread');
const options = workerData as BlockwiseJobOptions;
const ac = new AbortController();
port.on('message', (m: { type: 'abort' }) => {
  if (m.type === 'abort') ac.abort();
});
const post = (m: JobMessage) => port.postMessage(m);

const backend = await loadBackend(options.model, options.backendOptions).catch((err: unknown) => {
  post({ type: 'error', error: serializeAnyError(err) });
  return undefined;
});
if (backend) {
  try {
    const { model: _model, backendOptions: _b, ...rest } = options;
    const r = await runBlockwise({
      ...rest,
      backend,
      signal: ac.signal,
      onProgress: (p) => post({ type: 'progress', progress: p }),
    });
    post({
      type: 'done',
      result: {
        output: r.output,
        doneLog: r.doneLog,
        blockCount: r.plan.blockCount,
        blockInput: r.plan.blockInput,
        blockOutput: r.plan.blockOutput,
        stride: r.plan.stride,
        normalization: r.normalization,
        processed: r.processed,
        skipped: r.skipped,
        elapsedMs: r.elapsedMs,
      },
    });
  } catch (err) {
    post({ type: 'error', error: serializeAnyError(err) });
  } finally {
    await backend.dispose(); // waits for abandoned runs: the pool's threads are never killed mid-run
    port.close();
  }
}
