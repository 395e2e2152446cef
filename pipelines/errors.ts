/**
 * The closed set of errors thrown by pipelines/. Each has a literal `_tag`, typed context, the
 * standard `cause` and a `hint` saying how to fix it. Match with `isPipelineError(err, 'VolumeTooLarge')`;
 * cli/exit-codes.ts maps the tags to exit codes in one place.
 */

export type PipelineErrorTag = PipelineError['_tag'];

abstract class PipelineErrorBase extends Error {
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

/** An input array has the wrong shape, dtype or value range for the step it is given to. */
export class PipelineInputError extends PipelineErrorBase {
  readonly _tag = 'PipelineInput' as const;
  constructor(
    readonly what: string,
    readonly reason: string,
    hint: string,
  ) {
    super(`${what}: ${reason}`, hint);
  }
}

/**
 * A volume holds more voxels than the configured budget. Post-processing keeps whole volumes in
 * memory (several bytes per voxel per step), so it refuses instead of running out of memory.
 */
export class VolumeTooLargeError extends PipelineErrorBase {
  readonly _tag = 'VolumeTooLarge' as const;
  constructor(
    readonly what: string,
    readonly voxels: number,
    readonly budget: number,
    howToRaise: string,
  ) {
    super(
      `${what} has ${voxels.toLocaleString('en-US')} voxels, more than the budget of ${budget.toLocaleString('en-US')}`,
      `process a smaller region, or raise the limit with ${howToRaise} (the whole-volume steps need about 250 bytes of memory per voxel)`,
    );
  }
}

/** The track ILP solver did not reach an optimal (or time-limited feasible) solution. */
export class SolverFailedError extends PipelineErrorBase {
  readonly _tag = 'SolverFailed' as const;
  constructor(
    readonly status: string,
    cause?: unknown,
  ) {
    super(
      `the track ILP ended with status '${status}'`,
      'lower --max-edge-nm (fewer edges) or process a smaller region; the ILP grows with the number of edge pairs',
      { cause },
    );
  }
}

export type PipelineError = PipelineInputError | VolumeTooLargeError | SolverFailedError;

export function isPipelineError<T extends PipelineErrorTag | undefined = undefined>(
  err: unknown,
  tag?: T,
): err is T extends PipelineErrorTag ? Extract<PipelineError, { _tag: T }> : PipelineError {
  return err instanceof PipelineErrorBase && (tag === undefined || err._tag === tag);
}
