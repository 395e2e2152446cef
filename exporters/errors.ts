/**
 * The closed set of errors the exporter raises for problems a user can act on.
 * Every error has a literal `_tag`, a message naming what is wrong and a `hint` saying how to fix it.
 * The CLI maps tag → exit code in one table (cli/exit-codes.ts).
 */

export type ExportErrorTag =
  | 'InvalidArgument' // a CLI flag or path that makes no sense (unknown profile, missing file)
  | 'BundleNotFound' // no weights/<id>/bundle.yaml where one was asked for
  | 'BundleInvalid' // bundle.yaml fails its schema, a listed file is missing or its sha256 differs
  | 'ReproduceFailed' // the ONNX model does not reproduce the bundle's test output
  | 'RdfInvalid' // the generated/given rdf.yaml fails schema or semantic validation
  | 'ConsumerRuleFailed' // the model cannot satisfy a requested consumer profile (ilastik, fiji)
  | 'ZipInvalid' // a zip that is not a flat bioimage.io package (no rdf.yaml, missing entry, bad hash)
  | 'OnnxInvalid' // a file that is not a readable ONNX model
  | 'ModelTestFailed'; // `test`: an output at some size/batch breaks the declared shape or consistency rule

export class ExportError extends Error {
  readonly _tag: ExportErrorTag;
  readonly hint: string;
  readonly details: readonly string[];

  constructor(
    tag: ExportErrorTag,
    message: string,
    opts: { hint: string; details?: readonly string[]; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = `ExportError(${tag})`;
    this._tag = tag;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
  }
}

export function isExportError(err: unknown, tag?: ExportErrorTag): err is ExportError {
  return err instanceof ExportError && (tag === undefined || err._tag === tag);
}
