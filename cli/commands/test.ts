/** `test`: run the packaged ONNX model at sizes k = 0, 1, 2 and batch 1, 2 (see exporters/model-test.ts). */
import { Command } from 'commander';
import { ExportError, testModelZip } from '../../exporters/index.js';
import type { Io } from '../io.js';
import { stderrProgress } from '../progress.js';

const fmt = (v: number | null) => (v === null ? '-' : v.toExponential(2));

export function testCommand(io: Io): Command {
  return new Command('test')
    .description(
      'reproduce the test output with onnxruntime and check shapes, consistency and batching at sizes k = 0, 1, 2',
    )
    .argument('<zip>', 'a package made by `bioimage-export package`')
    .option('--json', 'print the results as JSON')
    .option('-q, --quiet', 'no progress lines on stderr')
    .addHelpText(
      'after',
      `
Checks (all on the packaged ONNX weights, with the declared scale_linear preprocessing):
  reproduce    ONNX(test_input) = test_output within config.bioimageio.reproducibility_tolerance
  shape        at input size min + k·step (k = 0, 1, 2) the output has the declared shape
  consistency  the size-k input is the test input cropped/reflect-extended at the far end of each
               axis; where the receptive fields coincide the output equals the test-input output
               (all of the overlap for self-cropping networks, minus the halo for halo networks)
  batch        a batch of 2 (input + its mirror) gives, row by row, the batch-1 outputs`,
    )
    .action(async (zip: string, opts: { json?: boolean; quiet?: boolean }) => {
      const progress = stderrProgress(opts.quiet === true);
      const r = await testModelZip(zip, (s) => progress.step(s));
      if (opts.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        io.out(
          `${r.ok ? 'PASSED' : 'FAILED'}  ${zip}  (tolerance abs ${r.tolerance.abs}, rel ${r.tolerance.rel})\n`,
        );
        io.out('check        k  batch  input                  output                 max abs err  result\n');
        for (const c of r.checks) {
          io.out(
            `${c.check.padEnd(11)}  ${c.k < 0 ? '-' : String(c.k)}  ${String(c.batch).padStart(5)}  ${`[${c.inputShape.join(',')}]`.padEnd(21)}  ${`[${c.outputShape.join(',')}]`.padEnd(21)}  ${fmt(c.maxAbsError).padStart(11)}  ${c.ok ? 'ok' : `FAIL (expected ${c.expected})${c.error ? `: ${c.error}` : ''}`}\n`,
          );
        }
      }
      if (!r.ok) {
        const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.check} k=${c.k} batch=${c.batch}`);
        throw new ExportError(
          'ModelTestFailed',
          `${zip}: ${failed.length} check(s) failed: ${failed.join(', ')}`,
          {
            hint: 're-export the bundle (dynamic batch and spatial axes, test output from the same weights) and package again',
          },
        );
      }
    });
}
