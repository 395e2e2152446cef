import * as errors from '../errors.js';

/** An error as cloneable data: runtime errors keep their class (by tag) and fields. */
export interface SerializedAnyError {
  readonly tag: string | undefined;
  readonly message: string;
  readonly stack: string | undefined;
  readonly fields: Record<string, unknown>;
}

const PROTOTYPES: { [T in errors.RuntimeErrorTag]: object } = {
  InvalidNpy: errors.InvalidNpyError.prototype,
  UnsupportedDtype: errors.UnsupportedDtypeError.prototype,
  ProviderUnavailable: errors.ProviderUnavailableError.prototype,
  ModelLoad: errors.ModelLoadError.prototype,
  Inference: errors.InferenceError.prototype,
  ShapeMismatch: errors.ShapeMismatchError.prototype,
  InvalidTiling: errors.InvalidTilingError.prototype,
  Volume: errors.VolumeError.prototype,
  ResumeMismatch: errors.ResumeMismatchError.prototype,
  Aborted: errors.AbortedError.prototype,
  BackendDisposed: errors.BackendDisposedError.prototype,
};

export function serializeAnyError(err: unknown): SerializedAnyError {
  if (!(err instanceof Error)) return { tag: undefined, message: String(err), stack: undefined, fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (k !== 'cause') fields[k] = structuredCloneable(v);
  return {
    tag: errors.isRuntimeError(err) ? err._tag : undefined,
    message: err.message,
    stack: err.stack,
    fields,
  };
}

function structuredCloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return String(v);
  }
}

/** Rebuilds the error on this side of the thread boundary (isRuntimeError still works). */
export function reviveAnyError(e: SerializedAnyError): Error {
  const proto = e.tag && e.tag in PROTOTYPES ? PROTOTYPES[e.tag as errors.RuntimeErrorTag] : undefined;
  const err = (proto ? Object.create(proto) : new Error(e.message)) as Error;
  Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: e.stack, writable: true, configurable: true });
  Object.assign(err, e.fields);
  return err;
}
