/**
 * The closed set of errors the server (and `bioimage-export predict`) raises for problems a caller
 * can act on. Each has a literal `_tag`, a message naming what is wrong and a `hint` saying how to
 * fix it. server/http-errors.ts maps tag → HTTP status in one place; cli/commands map it to exit codes.
 */

export type ServeErrorTag =
  | 'MalformedRequest' // body/headers cannot be parsed (bad JSON, bad .npy, inconsistent binary sizes)
  | 'InvalidTensor' // a well-formed tensor the model cannot take (dtype, rank, channels, size)
  | 'InvalidArgument' // a field or flag outside its allowed values (roi, block, padding, job body)
  | 'VoxelSizeMismatch' // the input volume's resolution differs from the model's voxel size
  | 'ModelNotFound' // no bundle with that id in the models folder
  | 'NotFound' // unknown route or job id
  | 'PathForbidden' // a path resolves outside the configured data root (traversal, symlink escape)
  | 'Unauthorized' // no bearer token on a protected route
  | 'Forbidden' // a bearer token that is not the configured one
  | 'PayloadTooLarge' // body over the configured limit
  | 'UnsupportedMediaType' // a body in an encoding/type the route does not read
  | 'Busy' // concurrency limit and queue full: retry later
  | 'NotReady' // the server is starting or shutting down
  | 'Timeout' // the request ran past the configured request timeout
  | 'Conflict' // the operation does not fit the resource's state (cancel a finished job, register a name twice)
  | 'ExtensionDisabled' // an opt-in protocol extension (system shared memory) the server was not started with
  | 'ConfigInvalid'; // server configuration rejected at start

export class ServeError extends Error {
  readonly _tag: ServeErrorTag;
  readonly hint: string;
  /** Seconds a client should wait before retrying (Busy, NotReady, Timeout). */
  readonly retryAfter: number | undefined;

  constructor(
    tag: ServeErrorTag,
    message: string,
    opts: { hint: string; retryAfter?: number; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this._tag = tag;
    this.hint = opts.hint;
    this.retryAfter = opts.retryAfter;
  }

  override get name(): string {
    return `ServeError(${this._tag})`;
  }
}

export function isServeError(err: unknown, tag?: ServeErrorTag): err is ServeError {
  return err instanceof ServeError && (tag === undefined || err._tag === tag);
}
