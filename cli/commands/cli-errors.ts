/**
 * predict/serve failures → the CLI's tagged errors. cli/main.ts maps ExportError tags to exit
 * codes; the server's and runtime's user-facing errors become InvalidArgument (exit 2) or
 * BundleNotFound (exit 3), keeping their own tag at the front of the message.
 */
import { ExportError, isExportError } from '../../exporters/index.js';
import { isRuntimeError } from '../../runtime/index.js';
import { isServeError } from '../../server/index.js';

export function asCliError(err: unknown): unknown {
  if (isExportError(err)) return err;
  if (isServeError(err)) {
    const tag = err._tag === 'ModelNotFound' ? 'BundleNotFound' : 'InvalidArgument';
    return new ExportError(tag, `[${err._tag}] ${err.message}`, { hint: err.hint, cause: err });
  }
  if (
    isRuntimeError(err) &&
    ['Volume', 'InvalidTiling', 'ResumeMismatch', 'Aborted', 'UnsupportedDtype', 'ShapeMismatch'].includes(
      err._tag,
    )
  ) {
    return new ExportError('InvalidArgument', `[${err._tag}] ${err.message}`, { hint: err.hint, cause: err });
  }
  return err;
}
