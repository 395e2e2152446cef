/**
 * Validation findings and the closed set of errors thrown by spec/.
 *
 * Findings (`Issue`) are collected, never thrown: a validator returns every violation it sees.
 * Thrown errors (`SpecError`) are for inputs that cannot be read at all (broken YAML, a corrupt
 * .npy header); callers usually turn them into one `Issue` via `issueFromError`.
 */

export type Severity = 'error' | 'warning';

/** What kind of rule a finding comes from; stable strings, safe to match on in tools. */
export type IssueCode =
  | 'yaml'
  | 'unsupported-format'
  | 'schema'
  | 'conversion'
  | 'file-missing'
  | 'file-suffix'
  | 'sha256'
  | 'npy'
  | 'test-tensor'
  | 'axes'
  | 'tensor-ids'
  | 'data'
  | 'processing'
  | 'weights'
  | 'name'
  | 'id'
  | 'license'
  | 'documentation'
  | 'fair'
  | 'tags'
  | 'not-checked'
  | 'newer-field'
  | 'ilastik'
  | 'deepimagej';

export interface Issue {
  readonly code: IssueCode;
  readonly severity: Severity;
  /** RFC 6901 JSON pointer into the description (`''` is the whole document). */
  readonly path: string;
  readonly message: string;
  /** How to fix it. */
  readonly hint: string;
}

export function issue(
  code: IssueCode,
  path: string,
  message: string,
  hint: string,
  severity: Severity = 'error',
): Issue {
  return { code, severity, path, message, hint };
}

export function warning(code: IssueCode, path: string, message: string, hint: string): Issue {
  return issue(code, path, message, hint, 'warning');
}

/** JSON pointer from path segments, escaping `~` and `/` as RFC 6901 requires. */
export function pointer(...segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export type SpecErrorTag = 'YamlParseError' | 'NpyFormatError' | 'OnnxFormatError' | 'FileSourceError';

/**
 * Thrown when an input cannot be read at all. `_tag` is the closed discriminator; `hint` says
 * how to fix the input.
 */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly _tag: SpecErrorTag,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSpecError(err: unknown, tag?: SpecErrorTag): err is SpecError {
  return err instanceof SpecError && (tag === undefined || err._tag === tag);
}
