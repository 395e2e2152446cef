import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { AbortedError, BackendDisposedError } from '../errors.js';
import type { NdArray } from '../tensors/ndarray.js';
import { checkFeeds, sessionConfig } from './ort-session.js';
import type { WorkerReply, WorkerTask } from './ort-worker.js';
import type {
  BackendOptions,
  Device,
  InferenceBackend,
  RunOptions,
  SessionConfig,
  TensorInfo,
} from './types.js';
import { reviveError } from './worker-errors.js';

interface SharedPool {
  readonly pool: Piscina<WorkerTask, WorkerReply>;
  readonly meta: Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }>;
  /** Tasks still inside a worker (including ones whose caller gave up on abort). */
  readonly inflight: Set<Promise<unknown>>;
  refs: number;
}

// Pools (and so the sessions inside their workers) are shared by model path + options + worker count.
const pools = new Map<string, SharedPool>();

function workerFile(): { filename: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Source run (tsx, vitest): workers need tsx's loader to import the .ts worker.
    const tsx = pathToFileURL(createRequire(self).resolve('tsx')).href;
    return { filename: new URL('./ort-worker.ts', self).href, execArgv: ['--import', tsx] };
  }
  return { filename: new URL('./ort-worker.js', self).href, execArgv: [] };
}

function unwrap(reply: WorkerReply): WorkerReply & { ok: true } {
  if (!reply.ok) throw reviveError(reply.error);
  return reply;
}

function openPool(config: SessionConfig, workers: number): SharedPool {
  const key = JSON.stringify({ config, workers });
  let shared = pools.get(key);
  if (!shared) {
    const pool = new Piscina<WorkerTask, WorkerReply>({
      ...workerFile(),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 2 ** 31 - 1, // keep workers (and their sessions) for the pool's lifetime
    });
    const meta = pool.run({ kind: 'load', config }).then((r) => {
      const ok = unwrap(r);
      if (!('inputs' in ok)) throw new Error('worker answered a load task without metadata');
      return { inputs: ok.inputs, outputs: ok.outputs };
    });
    shared = { pool, meta, inflight: new Set(), refs: 0 };
    pools.set(key, shared);
    const entry = shared;
    meta.catch(() => {
      if (pools.get(key) === entry) pools.delete(key);
      void pool.destroy();
    });
  }
  shared.refs++;
  return shared;
}

/** onnxruntime in a pool of worker threads (piscina): the calling thread's event loop keeps running. */
export class OrtPoolBackend implements InferenceBackend {
  readonly #config: SessionConfig;
  readonly #key: string;
  #shared: SharedPool | undefined;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];

  private constructor(
    config: SessionConfig,
    key: string,
    shared: SharedPool,
    meta: Awaited<SharedPool['meta']>,
  ) {
    this.#config = config;
    this.#key = key;
    this.#shared = shared;
    this.inputs = meta.inputs;
    this.outputs = meta.outputs;
  }

  static async create(modelPath: string, options: BackendOptions = {}): Promise<OrtPoolBackend> {
    const config = sessionConfig(modelPath, options);
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1)
      throw new TypeError(`'workers' must be >= 1, got ${workers}`);
    const shared = openPool(config, workers);
    try {
      const meta = await shared.meta;
      return new OrtPoolBackend(config, JSON.stringify({ config, workers }), shared, meta);
    } catch (err) {
      shared.refs--;
      throw err;
    }
  }

  get modelPath(): string {
    return this.#config.modelPath;
  }
  get device(): Device {
    return this.#config.device;
  }
  /** Worker threads in this backend's pool. */
  get workers(): number {
    return this.#shared?.pool.options.maxThreads ?? 0;
  }

  async run(
    feeds: Readonly<Record<string, NdArray>>,
    options: RunOptions = {},
  ): Promise<Record<string, NdArray>> {
    const shared = this.#shared;
    if (!shared) throw new BackendDisposedError(this.#config.modelPath);
    checkFeeds(this.inputs, feeds);
    const signal = options.signal;
    if (signal?.aborted) throw new AbortedError('inference');
    const transferList = options.transfer
      ? Object.values(feeds).map((a) => a.data.buffer as ArrayBuffer)
      : undefined;
    // Abort never reaches piscina: it would terminate a worker inside onnxruntime's native run,
    // which kills the process. A shared flag makes a queued task skip itself instead, and a
    // running one finishes in the worker while the caller gets Aborted at once.
    const cancel = new SharedArrayBuffer(4);
    const task = shared.pool.run(
      {
        kind: 'run',
        config: this.#config,
        feeds: { ...feeds },
        cancel,
        ...(options.output ? { output: options.output } : {}),
      },
      { transferList },
    );
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    shared.inflight.add(settled);
    void settled.then(() => shared.inflight.delete(settled));
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        Atomics.store(new Int32Array(cancel), 0, 1);
        reject(new AbortedError('inference'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {}); // settled through the race below or not at all
    let reply: WorkerReply;
    try {
      reply = await (signal ? Promise.race([task, aborted]) : task);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    const ok = unwrap(reply);
    if ('cancelled' in ok) throw new AbortedError('inference');
    if (!('results' in ok)) throw new Error('worker answered a run task without results');
    return ok.results;
  }

  async dispose(): Promise<void> {
    const shared = this.#shared;
    if (!shared) return;
    this.#shared = undefined;
    shared.refs--;
    if (shared.refs > 0) return;
    if (pools.get(this.#key) === shared) pools.delete(this.#key);
    // destroy() terminates busy workers, which inside onnxruntime's native run kills the process.
    await Promise.all(shared.inflight);
    await shared.pool.destroy();
  }
}
