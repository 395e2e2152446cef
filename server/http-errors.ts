/**
 * The ONE place where errors become HTTP responses: every tagged error of server/, runtime/ and
 * exporters/ (and express's body-parser failures) → status + JSON {code, message, hint}. The body
 * also carries `error` (= message), the field KServe v2 clients such as tritonclient read.
 */
import { isExportError } from '../exporters/index.js';
import { isRuntimeError, type RuntimeErrorTag } from '../runtime/index.js';
import { isServeError, ServeError, type ServeErrorTag } from './errors.js';

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly error: string;
}

export const SERVE_STATUS: Readonly<Record<ServeErrorTag, number>> = {
  MalformedRequest: 400,
  InvalidTensor: 400,
  InvalidArgument: 400,
  VoxelSizeMismatch: 400,
  ModelNotFound: 404,
  NotFound: 404,
  PathForbidden: 403,
  Unauthorized: 401,
  Forbidden: 403,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  Busy: 429,
  NotReady: 503,
  Timeout: 503,
  Conflict: 409,
  ExtensionDisabled: 501,
  ConfigInvalid: 500,
};

const RUNTIME_STATUS: Readonly<Record<RuntimeErrorTag, number>> = {
  InvalidNpy: 400,
  UnsupportedDtype: 400,
  ShapeMismatch: 400,
  InvalidTiling: 400,
  Volume: 400,
  ResumeMismatch: 409,
  Aborted: 503,
  BackendDisposed: 503,
  ModelLoad: 500,
  Inference: 500,
  ProviderUnavailable: 500,
};

/** express body-parser errors carry `type`; turn them into our tags before mapping. */
function fromBodyParser(err: unknown): ServeError | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'entity.too.large': {
      const limit = (err as { limit?: number }).limit;
      return new ServeError('PayloadTooLarge', `request body over the limit of ${limit} bytes`, {
        hint: 'send a smaller tensor (the server tiles inputs, so split the volume or use POST /jobs on a zarr), or raise --max-body-mb',
      });
    }
    case 'entity.parse.failed':
      return new ServeError('MalformedRequest', `body is not valid JSON: ${(err as Error).message}`, {
        hint: 'send a JSON object with Content-Type: application/json',
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ServeError('UnsupportedMediaType', (err as Error).message, {
        hint: 'send the body uncompressed (identity, gzip or deflate) in utf-8',
      });
    case 'request.aborted':
    case 'request.size.invalid':
      return new ServeError('MalformedRequest', (err as Error).message, {
        hint: 'send the whole body with a correct Content-Length',
      });
    default:
      return undefined;
  }
}

/** Maps any thrown value to status + body; unknown errors are 500 with a generic message. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  const parsed = fromBodyParser(err) ?? err;
  const make = (status: number, code: string, message: string, hint: string, retryAfter?: number) => ({
    status,
    body: { code, message, hint, error: message },
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });
  if (isServeError(parsed)) {
    return make(SERVE_STATUS[parsed._tag], parsed._tag, parsed.message, parsed.hint, parsed.retryAfter);
  }
  if (isRuntimeError(parsed)) {
    const status = RUNTIME_STATUS[parsed._tag];
    return make(status, parsed._tag, parsed.message, parsed.hint, status === 503 ? 1 : undefined);
  }
  if (isExportError(parsed)) {
    const status = parsed._tag === 'BundleNotFound' ? 404 : parsed._tag === 'InvalidArgument' ? 400 : 500;
    return make(status, parsed._tag, parsed.message, parsed.hint);
  }
  return make(
    500,
    'Internal',
    'internal server error',
    'this is a bug: report it with the X-Request-Id of the request',
  );
}
