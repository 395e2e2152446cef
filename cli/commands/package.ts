/** `package`: bundle(s) → dist/<id>.zip, refusing bundles that do not reproduce or validate. */
import { statSync } from 'node:fs';
import { Command } from 'commander';
import { ExportError, type PackageResult, packageBundle, parseProfiles } from '../../exporters/index.js';
import { bundleDirs, DEFAULT_DIST, DEFAULT_WEIGHTS, resolveBundle } from '../bundles.js';
import type { Io } from '../io.js';
import { stderrProgress } from '../progress.js';

interface Opts {
  all?: boolean;
  for?: string;
  out: string;
  weights: string;
  json?: boolean;
  quiet?: boolean;
}

function summary(r: PackageResult): Record<string, unknown> {
  return {
    id: r.bundle.id,
    zip: r.zipPath,
    bytes: statSync(r.zipPath).size,
    profiles: r.profiles,
    trained: r.bundle.trained,
    reproduce_max_abs_error: r.reproduction.maxAbsError,
    warnings: r.report.warnings.map((w) => `${w.path || '/'}: ${w.message}`),
    notes: r.notes,
  };
}

export function packageCommand(io: Io): Command {
  return new Command('package')
    .description('package a bundle (folder or id in weights/) as a bioimage.io zip for ilastik and Fiji')
    .argument('[bundle]', 'bundle folder, or a model id in --weights')
    .option('--all', 'package every bundle in --weights')
    .option(
      '--for <profiles>',
      'consumers to satisfy, comma-separated: ilastik,fiji (default: all the model can serve)',
    )
    .option('--out <dir>', 'output folder', DEFAULT_DIST)
    .option('--weights <dir>', 'folder of bundles', DEFAULT_WEIGHTS)
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no progress lines on stderr')
    .addHelpText(
      'after',
      `
Examples:
  $ bioimage-export package weights/lsd-small-mtlsd          # → dist/lsd-small-mtlsd.zip
  $ bioimage-export package synister-small --for fiji        # an id in weights/
  $ bioimage-export package --all --out dist/ --json

Steps: bundle.yaml schema → sha256 of every file → reproduce test_output.npy with onnxruntime
(max abs error ≤ 1e-4) → cover, README, sample TIFFs → rdf.yaml validated through spec/ with the
consumer rules → zip. Nothing is written unless every step passes.`,
    )
    .action(async (bundle: string | undefined, opts: Opts) => {
      const profiles = parseProfiles(opts.for);
      if ((bundle === undefined) === (opts.all !== true)) {
        throw new ExportError('InvalidArgument', 'give either one bundle or --all', {
          hint: 'e.g. `bioimage-export package weights/lsd-small-mtlsd` or `bioimage-export package --all`',
        });
      }
      const dirs = opts.all ? bundleDirs(opts.weights) : [resolveBundle(bundle as string, opts.weights)];
      if (dirs.length === 0) {
        throw new ExportError('BundleNotFound', `no bundles in ${opts.weights}/`, {
          hint: `export one with \`.venv/bin/emzoo export --preset NAME --out ${opts.weights}/NAME\``,
        });
      }
      const results: Record<string, unknown>[] = [];
      let firstError: unknown;
      for (const dir of dirs) {
        const progress = stderrProgress(opts.quiet === true, dirs.length > 1 ? `${dir}: ` : '');
        try {
          const r = await packageBundle(dir, {
            outDir: opts.out,
            ...(profiles ? { profiles } : {}),
            onProgress: (s) => progress.step(s),
          });
          results.push(summary(r));
          if (!opts.json) {
            const s = summary(r);
            io.out(
              `wrote ${r.zipPath} (${s.bytes} bytes; for ${r.profiles.join(', ')}; reproduce max abs error ${r.reproduction.maxAbsError.toExponential(2)})\n`,
            );
            for (const n of r.notes) io.out(`  note: ${n}\n`);
            if (!r.bundle.trained)
              io.out(
                '  note: untrained weights (random initialisation): a format demonstration, not a usable model\n',
              );
            for (const w of s.warnings as string[]) io.out(`  warning: ${w}\n`);
          }
        } catch (err) {
          if (!opts.all) throw err;
          firstError ??= err;
          results.push({ dir, error: err instanceof Error ? err.message : String(err) });
          io.err(`failed: ${dir}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (opts.json) io.out(`${JSON.stringify(opts.all ? results : results[0], null, 2)}\n`);
      if (firstError !== undefined) throw firstError;
    });
}
