/**
 * The closed set of errors thrown by runtime/. Each has a literal `_tag`, typed context fields,
 * the standard `cause`, and a `hint` telling the caller how to fix it. Match with
 * `isRuntimeError(err, 'ProviderUnavailable')` rather than `instanceof`; the server maps tag → HTTP
 * status and the CLI maps tag → exit code, each in one place.
 */

export type RuntimeErrorTag = RuntimeError['_tag'];

abstract class RuntimeErrorBase extends Error {
  abstract readonly _tag: string;
  readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.hint = hint;
  }
  override get name(): string {
    return this._tag;
  }
}

/** A .npy file is malformed or uses a layout we do not read (Fortran order, big-endian, ...). */
export class InvalidNpyError extends RuntimeErrorBase {
  readonly _tag = 'InvalidNpy' as const;
  constructor(
    readonly source: string,
    readonly reason: string,
    hint: string,
  ) {
    super(`${source}: not a readable .npy file: ${reason}`, hint);
  }
}

/** A dtype outside the supported set (npy descr, zarr data type, or model tensor type). */
export class UnsupportedDtypeError extends RuntimeErrorBase {
  readonly _tag = 'UnsupportedDtype' as const;
  constructor(
    readonly dtype: string,
    readonly supported: readonly string[],
    readonly where: string,
  ) {
    super(
      `${where}: unsupported dtype '${dtype}'`,
      `convert the data to one of: ${supported.join(', ')} (e.g. numpy: arr.astype('<f4'))`,
    );
  }
}

/** The requested execution provider (e.g. CUDA) cannot be used on this host. Never falls back silently. */
export class ProviderUnavailableError extends RuntimeErrorBase {
  readonly _tag = 'ProviderUnavailable' as const;
  constructor(
    readonly provider: string,
    cause?: unknown,
  ) {
    super(
      `execution provider '${provider}' is not available on this host${cause instanceof Error ? `: ${cause.message}` : ''}`,
      provider === 'cuda'
        ? "install the CUDA 12 provider libraries (npm install onnxruntime-node with '--onnxruntime-node-install=v12' " +
            "on a GPU host with CUDA 12 + cuDNN 9), or request device 'cpu'"
        : "request device 'cpu'",
      { cause },
    );
  }
}

/** onnxruntime could not load the model file. */
export class ModelLoadError extends RuntimeErrorBase {
  readonly _tag = 'ModelLoad' as const;
  constructor(
    readonly modelPath: string,
    cause?: unknown,
  ) {
    super(
      `cannot load ONNX model '${modelPath}'${cause instanceof Error ? `: ${cause.message}` : ''}`,
      'check that the path exists and is an ONNX file (opset 17..18) exported with dynamic batch and spatial axes',
      { cause },
    );
  }
}

/** A run failed inside onnxruntime (after the inputs were accepted). */
export class InferenceError extends RuntimeErrorBase {
  readonly _tag = 'Inference' as const;
  constructor(
    readonly modelPath: string,
    cause?: unknown,
  ) {
    super(
      `inference failed for '${modelPath}'${cause instanceof Error ? `: ${cause.message}` : ''}`,
      "check the input shape against the model's valid sizes (min + k·step) and its channel count",
      { cause },
    );
  }
}

/** A tensor or volume does not have the shape/channels a model or output expects. */
export class ShapeMismatchError extends RuntimeErrorBase {
  readonly _tag = 'ShapeMismatch' as const;
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly got: readonly number[],
    hint: string,
  ) {
    super(`${what}: expected ${expected}, got [${got.join(', ')}]`, hint);
  }
}

/** Tiling parameters cannot be satisfied (memory budget below the smallest valid block, bad geometry). */
export class InvalidTilingError extends RuntimeErrorBase {
  readonly _tag = 'InvalidTiling' as const;
  constructor(message: string, hint: string) {
    super(message, hint);
  }
}

/** A volume cannot be opened, or is not what was asked for (group instead of array, wrong rank). */
export class VolumeError extends RuntimeErrorBase {
  readonly _tag = 'Volume' as const;
  constructor(
    readonly location: string,
    reason: string,
    hint: string,
    cause?: unknown,
  ) {
    super(`${location}: ${reason}`, hint, { cause });
  }
}

/** A done-blocks log beside the output belongs to a different run (other model, volume or blocks). */
export class ResumeMismatchError extends RuntimeErrorBase {
  readonly _tag = 'ResumeMismatch' as const;
  constructor(
    readonly logPath: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `${logPath} records a different run (plan ${found}, this run is ${expected})`,
      'write to a new output path, or delete the output and its .done.jsonl to start over',
    );
  }
}

/** The run was cancelled through its AbortSignal. Finished blocks are recorded; re-run to resume. */
export class AbortedError extends RuntimeErrorBase {
  readonly _tag = 'Aborted' as const;
  constructor(readonly what: string) {
    super(`${what} was aborted`, 'run again with the same output to resume from the blocks already done');
  }
}

/** A backend was used after dispose(). */
export class BackendDisposedError extends RuntimeErrorBase {
  readonly _tag = 'BackendDisposed' as const;
  constructor(readonly modelPath: string) {
    super(`backend for '${modelPath}' was disposed`, 'create a new backend with loadBackend()');
  }
}

export type RuntimeError =
  | InvalidNpyError
  | UnsupportedDtypeError
  | ProviderUnavailableError
  | ModelLoadError
  | InferenceError
  | ShapeMismatchError
  | InvalidTilingError
  | VolumeError
  | ResumeMismatchError
  | AbortedError
  | BackendDisposedError;

/** Narrows `err` to a runtime error, optionally of one tag. */
export function isRuntimeError<T extends RuntimeErrorTag>(
  err: unknown,
  tag?: T,
): err is Extract<RuntimeError, { _tag: T }> {
  return err instanceof RuntimeErrorBase && (tag === undefined || err._tag === tag);
}
