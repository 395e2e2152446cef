import {
  InferenceError,
  isRuntimeError,
  ModelLoadError,
  ProviderUnavailableError,
  UnsupportedDtypeError,
} from '../errors.js';

/** The errors a session worker can raise, as cloneable data. */
export type SerializedError =
  | { readonly tag: 'ProviderUnavailable'; readonly provider: string; readonly cause: string }
  | { readonly tag: 'ModelLoad' | 'Inference'; readonly modelPath: string; readonly cause: string }
  | {
      readonly tag: 'UnsupportedDtype';
      readonly dtype: string;
      readonly supported: readonly string[];
      readonly where: string;
    }
  | { readonly tag: 'Other'; readonly message: string };

const causeText = (err: { cause?: unknown }) =>
  err.cause instanceof Error ? err.cause.message : String(err.cause ?? '');

export function serializeError(err: unknown): SerializedError {
  if (isRuntimeError(err, 'ProviderUnavailable')) {
    return { tag: 'ProviderUnavailable', provider: err.provider, cause: causeText(err) };
  }
  if (isRuntimeError(err, 'ModelLoad') || isRuntimeError(err, 'Inference')) {
    return { tag: err._tag, modelPath: err.modelPath, cause: causeText(err) };
  }
  if (isRuntimeError(err, 'UnsupportedDtype')) {
    return { tag: 'UnsupportedDtype', dtype: err.dtype, supported: err.supported, where: err.where };
  }
  return { tag: 'Other', message: err instanceof Error ? err.message : String(err) };
}

export function reviveError(e: SerializedError): Error {
  switch (e.tag) {
    case 'ProviderUnavailable':
      return new ProviderUnavailableError(e.provider, new Error(e.cause));
    case 'ModelLoad':
      return new ModelLoadError(e.modelPath, new Error(e.cause));
    case 'Inference':
      return new InferenceError(e.modelPath, new Error(e.cause));
    case 'UnsupportedDtype':
      return new UnsupportedDtypeError(e.dtype, e.supported, e.where);
    case 'Other':
      return new Error(e.message);
  }
}
