/**
 * The export is not done until it is checked: run the bundle's test input through the shipped ONNX
 * file with the declared preprocessing and compare with the bundle's test output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from './bundle-read.js';
import { bundleTolerance, compareTensors } from './compare.js';
import { ExportError } from './errors.js';
import { type Float32Nd, parseNpy } from './npy.js';
import { loadOnnx } from './onnx-run.js';
import { applyScaleLinear } from './preprocess.js';

export interface Reproduction {
  readonly maxAbsError: number;
  /** The bundle's tolerance on this output: |a − e| ≤ atol + rtol·|e|. */
  readonly atol: number;
  readonly rtol: number;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly outputRange: readonly [number, number];
}

/** Bundle-relative files of the model and test output to check (the zoo variant's, or the main ones). */
export interface ReproduceFiles {
  readonly onnx: string;
  /** Bundle file, or the name of `expected` when that is given. */
  readonly testOutput: string;
  /** The test output built in memory (the zoo variant's padded one), instead of reading testOutput. */
  readonly expected?: Float32Nd;
}

const MAIN: ReproduceFiles = { onnx: 'model.onnx', testOutput: 'test_output.npy' };

export function readTestTensors(
  b: Bundle,
  testOutput = MAIN.testOutput,
): { input: Float32Nd; output: Float32Nd } {
  return {
    input: parseNpy(readFileSync(join(b.dir, 'test_input.npy')), 'test_input.npy'),
    output: parseNpy(readFileSync(join(b.dir, testOutput)), testOutput),
  };
}

/** Throws ReproduceFailed unless onnx(pre(test_input)) equals test_output within the bundle's tolerance. */
export async function reproduceTestOutput(b: Bundle, files: ReproduceFiles = MAIN): Promise<Reproduction> {
  const input = parseNpy(readFileSync(join(b.dir, 'test_input.npy')), 'test_input.npy');
  const output = files.expected ?? parseNpy(readFileSync(join(b.dir, files.testOutput)), files.testOutput);
  const model = await loadOnnx(join(b.dir, files.onnx), `${b.id}/${files.onnx}`);
  try {
    const actual = await model.run(applyScaleLinear(input, b.input.preprocessing));
    const tol = bundleTolerance(b.roundtrip, output);
    const cmp = compareTensors(actual, output, tol);
    if (!cmp.sameShape) {
      throw new ExportError(
        'ReproduceFailed',
        `${b.id}: ONNX output shape [${actual.shape.join(', ')}] differs from ${files.testOutput} [${output.shape.join(', ')}]`,
        { hint: 're-export the bundle so test_output.npy is the model output on test_input.npy' },
      );
    }
    if (cmp.mismatches > 0) {
      throw new ExportError(
        'ReproduceFailed',
        `${b.id}: ${files.onnx} output differs from ${files.testOutput} (max abs error ${cmp.maxAbsError.toExponential(3)}; ${cmp.mismatches} elements beyond |a − e| ≤ ${tol.abs.toExponential(3)} + ${tol.rel}·|e|); no zip written`,
        {
          hint: 'test_output.npy must be the model output on scale_linear(test_input.npy); re-export the bundle with `emzoo export`',
        },
      );
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of output.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return {
      maxAbsError: cmp.maxAbsError,
      atol: tol.abs,
      rtol: tol.rel,
      inputShape: input.shape,
      outputShape: output.shape,
      outputRange: [lo, hi],
    };
  } finally {
    await model.dispose();
  }
}
