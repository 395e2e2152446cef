import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendOptions } from '../backend/types.js';
import { AbortedError } from '../errors.js';
import type { LinearMap } from '../tiling/normalize.js';
import type { Progress } from './block-loop.js';
import { reviveAnyError, type SerializedAnyError } from './job-errors.js';
import type { BlockwiseOptions } from './run-blockwise.js';

/** runBlockwise options as plain data (they cross a thread boundary): a model path instead of a backend. */
export type BlockwiseJobOptions = Omit<
  BlockwiseOptions,
  'backend' | 'input' | 'source' | 'signal' | 'onProgress'
> & {
  readonly model: string;
  readonly backendOptions?: BackendOptions;
  /** Local path or http(s) URL of the input volume. */
  readonly input: string;
};

export interface BlockwiseJobResult {
  readonly output: string;
  readonly doneLog: string | undefined;
  readonly blockCount: number;
  readonly blockInput: readonly number[];
  readonly blockOutput: readonly number[];
  readonly stride: readonly number[];
  readonly normalization: LinearMap;
  readonly processed: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

export type JobMessage =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'done'; readonly result: BlockwiseJobResult }
  | { readonly type: 'error'; readonly error: SerializedAnyError };

/** Code that starts the job worker; from sources (.ts, under tsx/vitest) it registers tsx first. */
function workerSource(): string {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // require.resolve gives the CJS build; the ESM one sits next to it.
    const api = pathToFileURL(
      createRequire(self)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
    const entry = new URL('./job-worker.ts', self).href;
    return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  }
  return `import(${JSON.stringify(new URL('./job-worker.js', self).href)})`;
}

/**
 * runBlockwise in its own worker thread (which owns the model's worker pool), for servers: the
 * caller's event loop only receives progress messages, while padding, zarr encoding and inference
 * run elsewhere. Abort asks the job to stop; it resolves with Aborted after in-flight blocks settle.
 */
export function startBlockwiseJob(
  options: BlockwiseJobOptions,
  control: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<BlockwiseJobResult> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted) return reject(new AbortedError(`blockwise job into ${options.output}`));
    const worker = new Worker(workerSource(), { eval: true, workerData: options });
    let settled = false;
    const onAbort = () => worker.postMessage({ type: 'abort' });
    control.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      control.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (m: JobMessage) => {
      if (m.type === 'progress') control.onProgress?.(m.progress);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else finish(() => reject(reviveAnyError(m.error)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`blockwise job worker exited (code ${code}) without a result`))),
    );
  });
}
