import type { OutputShaping } from '../tensors/crop-convert.js';
import type { DType } from '../tensors/dtype.js';
import type { NdArray } from '../tensors/ndarray.js';

/** Where a model runs. 'cuda' is only used when asked for, and fails loudly if unavailable. */
export type Device = 'cpu' | 'cuda';

export interface BackendOptions {
  /** Execution provider; default 'cpu'. */
  readonly device?: Device;
  /** CUDA device ordinal; default 0. */
  readonly deviceId?: number;
  /** onnxruntime intra-op threads per session; default 1 (parallelism comes from workers). */
  readonly intraOpThreads?: number;
  /** onnxruntime inter-op threads per session; default 1. */
  readonly interOpThreads?: number;
  /**
   * Worker threads running sessions; default 1 so the caller's event loop never blocks.
   * 0 runs on the calling thread (onnxruntime-node's run() blocks that thread while it computes).
   */
  readonly workers?: number;
  /** onnxruntime log severity 0 (verbose) .. 4 (fatal); default 3. */
  readonly logSeverity?: 0 | 1 | 2 | 3 | 4;
}

/** One model input or output. Symbolic dimensions (dynamic batch/space) are strings, as in onnxruntime. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | string)[];
}

export interface RunOptions {
  /**
   * Rejects the run with Aborted as soon as it fires. A queued run is skipped; one already inside
   * onnxruntime finishes in its worker and its result is dropped (killing the thread would kill
   * the process).
   */
  readonly signal?: AbortSignal;
  /**
   * Move the input buffers to the worker instead of copying them (the caller's arrays become
   * detached). Default false.
   */
  readonly transfer?: boolean;
  /**
   * Crop every output's spatial axes to this window and convert it (e.g. to uint8) where the
   * model ran, before the result crosses the worker boundary: less data moved, less work on the
   * calling thread. Default: the outputs as the model gives them (float32, whole).
   */
  readonly output?: OutputShaping;
}

/** The contract the server, CLI and executor depend on; onnxruntime-node sits behind it. */
export interface InferenceBackend {
  readonly modelPath: string;
  readonly device: Device;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  run(feeds: Readonly<Record<string, NdArray>>, options?: RunOptions): Promise<Record<string, NdArray>>;
  dispose(): Promise<void>;
}

/** Options with defaults applied; the session cache key is built from these. */
export interface SessionConfig {
  readonly modelPath: string;
  readonly device: Device;
  readonly deviceId: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly logSeverity: 0 | 1 | 2 | 3 | 4;
}
