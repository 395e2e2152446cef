/**
 * The closed set of errors of the Redis block queue, shaped like runtime's (`_tag`, `hint`).
 * The CLI maps them to exit codes in cli/commands/worker.ts.
 */
export type QueueErrorTag = 'RedisUnavailable' | 'JobNotFound' | 'JobConflict' | 'BadJobRecord' | 'JobFailed';

export class QueueError extends Error {
  readonly _tag: QueueErrorTag;
  readonly hint: string;
  constructor(tag: QueueErrorTag, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this._tag = tag;
    this.hint = hint;
  }
  override get name(): string {
    return this._tag;
  }
}

export function isQueueError(err: unknown, tag?: QueueErrorTag): err is QueueError {
  return err instanceof QueueError && (tag === undefined || err._tag === tag);
}
