/**
 * The one table from tagged error to process exit code. Scripts can tell failures apart without
 * parsing messages; `bioimage-export --help` prints this table.
 */
import type { ExportErrorTag } from '../exporters/index.js';
import type { PipelineErrorTag } from '../pipelines/index.js';
import type { SpecErrorTag } from '../spec/index.js';

export const EXIT = {
  ok: 0,
  internal: 1, // a bug: an error that is not one of the tagged ones below
  usage: 2, // bad flags or arguments (commander) and InvalidArgument
} as const;

export const EXIT_CODE: Readonly<Record<ExportErrorTag, number>> = {
  InvalidArgument: 2,
  BundleNotFound: 3,
  BundleInvalid: 4,
  ReproduceFailed: 5,
  RdfInvalid: 6,
  ConsumerRuleFailed: 7,
  ZipInvalid: 8,
  OnnxInvalid: 9,
  ModelTestFailed: 10,
};

/** spec/ and runtime/ errors that can escape a command, by their own tags (others: internal). */
export const FOREIGN_EXIT_CODE: Readonly<
  Record<
    | SpecErrorTag
    | PipelineErrorTag
    | 'InvalidNpy'
    | 'UnsupportedDtype'
    | 'ModelLoad'
    | 'Inference'
    | 'ShapeMismatch',
    number
  >
> = {
  YamlParseError: 6,
  FileSourceError: 8,
  NpyFormatError: 8,
  OnnxFormatError: 9,
  InvalidNpy: 8,
  UnsupportedDtype: 8,
  ModelLoad: 9,
  Inference: 9,
  ShapeMismatch: 10,
  PipelineInput: 11,
  VolumeTooLarge: 12,
  SolverFailed: 13,
};

export function exitTable(): string {
  const rows = [
    [0, 'success'],
    [EXIT.internal, 'internal error (please report)'],
    ...Object.entries(EXIT_CODE).map(([tag, code]) => [code, tag] as const),
  ];
  const seen = new Map<number, string[]>();
  for (const [code, what] of rows)
    seen.set(code as number, [...(seen.get(code as number) ?? []), what as string]);
  return [...seen.entries()]
    .map(([code, what]) => `  ${String(code).padStart(2)}  ${what.join(', ')}`)
    .join('\n');
}
