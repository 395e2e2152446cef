import { AbortedError, BackendDisposedError } from '../errors.js';
import type { NdArray } from '../tensors/ndarray.js';
import {
  acquireSession,
  type LoadedSession,
  releaseSession,
  runSession,
  sessionConfig,
} from './ort-session.js';
import type {
  BackendOptions,
  Device,
  InferenceBackend,
  RunOptions,
  SessionConfig,
  TensorInfo,
} from './types.js';

/**
 * onnxruntime on the calling thread. run() blocks that thread while it computes (onnxruntime-node
 * runs synchronously inside its promise), so servers should use OrtPoolBackend instead.
 */
export class OrtBackend implements InferenceBackend {
  readonly #config: SessionConfig;
  #loaded: LoadedSession | undefined;

  private constructor(config: SessionConfig, loaded: LoadedSession) {
    this.#config = config;
    this.#loaded = loaded;
  }

  static async create(modelPath: string, options: BackendOptions = {}): Promise<OrtBackend> {
    const config = sessionConfig(modelPath, options);
    const loaded = await acquireSession(config);
    return new OrtBackend(config, loaded);
  }

  get modelPath(): string {
    return this.#config.modelPath;
  }
  get device(): Device {
    return this.#config.device;
  }
  get inputs(): readonly TensorInfo[] {
    return this.#live().inputs;
  }
  get outputs(): readonly TensorInfo[] {
    return this.#live().outputs;
  }

  #live(): LoadedSession {
    if (!this.#loaded) throw new BackendDisposedError(this.#config.modelPath);
    return this.#loaded;
  }

  async run(
    feeds: Readonly<Record<string, NdArray>>,
    options: RunOptions = {},
  ): Promise<Record<string, NdArray>> {
    // onnxruntime-node computes synchronously, so an abort can only stop a run before it starts.
    if (options.signal?.aborted) throw new AbortedError('inference');
    return runSession(this.#config, this.#live(), feeds, options.output);
  }

  async dispose(): Promise<void> {
    if (!this.#loaded) return;
    this.#loaded = undefined;
    await releaseSession(this.#config);
  }
}
