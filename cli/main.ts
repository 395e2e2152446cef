/**
 * `bioimage-export`: a thin dispatcher. Each command is one file in cli/commands; every failure
 * is a tagged error, printed with its hint and mapped to an exit code in cli/exit-codes.ts.
 */
import { Command, CommanderError } from 'commander';
import { isExportError } from '../exporters/index.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { packageCommand } from './commands/package.js';
import { postprocessCommand } from './commands/postprocess.js';
import { predictCommand } from './commands/predict.js';
import { serveCommand } from './commands/serve.js';
import { testCommand } from './commands/test.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';
import { EXIT, EXIT_CODE, exitTable, FOREIGN_EXIT_CODE } from './exit-codes.js';
import { type Io, processIo } from './io.js';

const EXAMPLES = `
Examples:
  $ bioimage-export list
  $ bioimage-export package weights/lsd-small-mtlsd            # → dist/lsd-small-mtlsd.zip
  $ bioimage-export package --all --for ilastik,fiji --out dist/
  $ bioimage-export validate dist/lsd-small-mtlsd.zip --json
  $ bioimage-export test dist/lsd-small-mtlsd.zip
  $ bioimage-export inspect weights/lsd-small-mtlsd/model.onnx

Exit codes:
${exitTable()}`;

export function buildProgram(io: Io): Command {
  const program = new Command('bioimage-export')
    .description(
      'package emzoo bundles (weights/<id>/) as BioImage Model Zoo zips for ilastik and Fiji, and check them',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  for (const make of [
    listCommand,
    packageCommand,
    validateCommand,
    testCommand,
    inspectCommand,
    predictCommand,
    postprocessCommand,
    serveCommand,
    workerCommand,
  ]) {
    const cmd = make(io);
    cmd.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
    program.addCommand(cmd);
  }
  return program;
}

function foreignTag(err: unknown): string | undefined {
  if (err instanceof Error && '_tag' in err && typeof (err as { _tag: unknown })._tag === 'string') {
    return (err as unknown as { _tag: string })._tag;
  }
  return undefined;
}

/** Runs the CLI; returns the exit code (never calls process.exit, so tests can run it in-process). */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" in commander's exitOverride world
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const command = argv[0] ?? '';
    if (isExportError(err)) {
      io.err(`bioimage-export ${command}: error [${err._tag}]: ${err.message}\nhint: ${err.hint}\n`);
      return EXIT_CODE[err._tag];
    }
    const tag = foreignTag(err);
    if (tag !== undefined && tag in FOREIGN_EXIT_CODE) {
      const hint = (err as { hint?: string }).hint;
      io.err(
        `bioimage-export ${command}: error [${tag}]: ${(err as Error).message}\n${hint ? `hint: ${hint}\n` : ''}`,
      );
      return FOREIGN_EXIT_CODE[tag as keyof typeof FOREIGN_EXIT_CODE];
    }
    io.err(
      `bioimage-export ${command}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT.internal;
  }
}
