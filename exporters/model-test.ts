/**
 * `bioimage-export test <zip>`: run the packaged ONNX model the way bioimageio.core's dynamic test
 * does, and check what can be checked without a second reference implementation.
 *
 * 1. reproduce: ONNX(preprocess(test_input)) equals test_output (declared reproducibility tolerance).
 * 2. for each valid size k = 0, 1, 2 (min + k·step on every parameterised axis; fixed axes stay):
 *    - shape: the output shape is the one rdf.yaml declares (batch, channel count, size references);
 *    - consistency: the input of size k is the test input cropped, or extended by reflection, at
 *      the far end of every axis, so both share the origin. Every output voxel whose receptive field
 *      lies in the shared part must equal the test-input output there: the whole overlap for networks
 *      that crop their own border (size offset), the overlap minus `halo` at the far end for networks
 *      that declare a halo;
 *    - batch: a batch of 2 (the input and its mirror image) gives, row by row, what batch 1 gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelDescr, validatePackage } from '../spec/index.js';
import { ExportError } from './errors.js';
import { type Float32Nd, parseNpy } from './npy.js';
import { loadOnnx } from './onnx-run.js';
import { applyScaleLinear } from './preprocess.js';
import { concatBatch, flipLast, resizeAtOrigin, slice } from './tensor-ops.js';
import { readZip } from './zip-read.js';

export interface CheckResult {
  readonly check: 'reproduce' | 'shape' | 'consistency' | 'batch';
  readonly k: number;
  readonly batch: number;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly expected: string; // expected shape, or the compared region
  readonly maxAbsError: number | null;
  readonly ok: boolean;
  readonly error?: string; // the run itself failed (e.g. a static-shape graph at another size)
}

export interface ModelTestResult {
  readonly zip: string;
  readonly ok: boolean;
  readonly tolerance: { readonly abs: number; readonly rel: number };
  readonly checks: readonly CheckResult[];
}

interface Tolerance {
  abs: number;
  rel: number;
}

function maxError(a: Float32Nd, e: Float32Nd, tol: Tolerance): { max: number; ok: boolean } {
  if (a.shape.join() !== e.shape.join()) return { max: Number.POSITIVE_INFINITY, ok: false };
  let max = 0;
  let ok = true;
  for (let i = 0; i < e.data.length; i++) {
    const ev = e.data[i] as number;
    const d = Math.abs((a.data[i] as number) - ev);
    if (!(d <= max)) max = d;
    if (!(d <= tol.abs + tol.rel * Math.abs(ev))) ok = false;
  }
  return { max, ok };
}

function tolerance(d: ModelDescr): Tolerance {
  const rt = (
    d.config as
      | {
          bioimageio?: {
            reproducibility_tolerance?: { absolute_tolerance?: number; relative_tolerance?: number }[];
          };
        }
      | undefined
  )?.bioimageio?.reproducibility_tolerance?.[0];
  return { abs: rt?.absolute_tolerance ?? 1e-4, rel: rt?.relative_tolerance ?? 1e-3 };
}

function failTest(message: string, hint: string): never {
  throw new ExportError('ModelTestFailed', message, { hint });
}

/** The scale_linear (gain, offset) our packages declare; any other preprocessing cannot be replayed here. */
function preprocessing(d: ModelDescr): { gain: number; offset: number } {
  let gain = 1;
  let offset = 0;
  for (const step of d.inputs[0]?.preprocessing ?? []) {
    if (step.id === 'ensure_dtype') continue;
    if (step.id === 'scale_linear' && !('axis' in step.kwargs)) {
      gain = step.kwargs.gain ?? 1;
      offset = step.kwargs.offset ?? 0;
      continue;
    }
    failTest(
      `preprocessing '${step.id}' is not replayed by this test`,
      'use `bioimageio test` for this package',
    );
  }
  for (const step of d.outputs[0]?.postprocessing ?? []) {
    if (step.id !== 'ensure_dtype')
      failTest(`postprocessing '${step.id}' is not replayed by this test`, 'use `bioimageio test`');
  }
  return { gain, offset };
}

export async function testModelZip(
  zipPath: string,
  onProgress: (s: string) => void = () => {},
): Promise<ModelTestResult> {
  const zip = readZip(zipPath);
  onProgress('validating rdf.yaml');
  const { report, descr } = await validatePackage(zip.source);
  if (!report.ok || descr === undefined) {
    const details = report.errors.map((e) => `${e.path || '/'}: ${e.message}`);
    throw new ExportError(
      'RdfInvalid',
      `${zipPath} is not a valid package: ${details.slice(0, 5).join('; ')}`,
      {
        hint: 'run `bioimage-export validate` on it for every finding',
        details,
      },
    );
  }
  const input = descr.inputs[0];
  const output = descr.outputs[0];
  const onnx = descr.weights.onnx;
  if (descr.inputs.length !== 1 || descr.outputs.length !== 1 || !input || !output) {
    failTest('the test handles one input and one output tensor', 'package single-input single-output models');
  }
  if (!onnx || !input.test_tensor || !output.test_tensor) {
    failTest('the package has no onnx weights or no test tensors', 'package with `bioimage-export package`');
  }
  const pre = preprocessing(descr);
  const tol = tolerance(descr);
  const testIn = parseNpy(zip.get(input.test_tensor.source), input.test_tensor.source);
  const testOut = parseNpy(zip.get(output.test_tensor.source), output.test_tensor.source);

  const dir = mkdtempSync(join(tmpdir(), 'bioimage-export-test-'));
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, zip.get(onnx.source));
  const model = await loadOnnx(modelPath, `${zipPath}:${onnx.source}`);
  const checks: CheckResult[] = [];
  try {
    const run = (x: Float32Nd) => model.run(applyScaleLinear(x, pre));
    onProgress('reproduce: test input');
    const yRef = await run(testIn);
    const rep = maxError(yRef, testOut, tol);
    checks.push({
      check: 'reproduce',
      k: -1,
      batch: 1,
      inputShape: testIn.shape,
      outputShape: yRef.shape,
      expected: `[${testOut.shape.join(', ')}]`,
      maxAbsError: rep.max,
      ok: rep.ok,
    });

    const inIds = input.axes.map((a) =>
      a.type === 'batch' ? 'batch' : a.type === 'channel' ? 'channel' : (a.id ?? 'x'),
    );
    const parameterised = input.axes.some((a) => {
      const s = (a as { size?: unknown }).size;
      return typeof s === 'object' && s !== null && 'min' in s;
    });
    const ks = parameterised ? [0, 1, 2] : [0];
    for (const k of ks) {
      const shape = input.axes.map((a, i) => {
        if (a.type === 'batch') return 1;
        if (a.type === 'channel') return a.channel_names.length;
        const s = (a as { size: unknown }).size;
        if (typeof s === 'number') return s;
        if (s !== null && typeof s === 'object' && 'min' in s) {
          const p = s as { min: number; step: number };
          return p.min + k * p.step;
        }
        return testIn.shape[i] as number;
      });
      const expected = output.axes.map((a) => {
        if (a.type === 'batch') return 1;
        if (a.type === 'channel') return a.channel_names.length;
        const s = (a as { size: unknown }).size;
        if (typeof s === 'number') return s;
        const ref = s as { tensor_id?: string; axis_id?: string; offset?: number };
        const j = inIds.indexOf(ref.axis_id ?? '');
        const inAxis = input.axes[j] as { scale?: number } | undefined;
        const scale = (inAxis?.scale ?? 1) / ((a as { scale?: number }).scale ?? 1);
        return Math.floor((shape[j] as number) * scale + (ref.offset ?? 0));
      });
      const x = resizeAtOrigin(testIn, shape);
      onProgress(`k = ${k}: input [${shape.join(', ')}], batch 1`);
      const base = { k, batch: 1, inputShape: shape };
      let y: Float32Nd;
      try {
        y = await run(x);
      } catch (err) {
        checks.push({
          ...base,
          check: 'shape',
          outputShape: [],
          expected: `[${expected.join(', ')}]`,
          maxAbsError: null,
          ok: false,
          error: (err as Error).message,
        });
        continue;
      }
      const shapeOk = y.shape.join() === expected.join();
      checks.push({
        ...base,
        check: 'shape',
        outputShape: y.shape,
        expected: `[${expected.join(', ')}]`,
        maxAbsError: null,
        ok: shapeOk,
      });
      if (shapeOk && y.shape.length === yRef.shape.length && y.shape.length > 2) {
        const size = y.shape.map((n, i) => {
          if (i < 2) return n;
          const a = output.axes[i] as { halo?: number };
          return Math.min(n, yRef.shape[i] as number) - (a.halo ?? 0);
        });
        if (size.every((n) => n > 0)) {
          const zero = size.map(() => 0);
          const c = maxError(slice(y, zero, size), slice(yRef, zero, size), tol);
          checks.push({
            ...base,
            check: 'consistency',
            outputShape: y.shape,
            expected: `overlap [${size.join(', ')}] = test-input output`,
            maxAbsError: c.max,
            ok: c.ok,
          });
        }
      }
      onProgress(`k = ${k}: batch 2`);
      const b2 = {
        k,
        batch: 2,
        inputShape: [2, ...shape.slice(1)],
        check: 'batch' as const,
        expected: 'rows = batch-1 outputs',
      };
      try {
        const x2 = flipLast(x);
        const y2 = await run(x2);
        const yb = await run(concatBatch(x, x2));
        const row = (t: Float32Nd, b: number) =>
          slice(
            t,
            t.shape.map((_, i) => (i === 0 ? b : 0)),
            [1, ...t.shape.slice(1)],
          );
        const e0 =
          yb.shape[0] === 2 ? maxError(row(yb, 0), y, tol) : { max: Number.POSITIVE_INFINITY, ok: false };
        const e1 =
          yb.shape[0] === 2 ? maxError(row(yb, 1), y2, tol) : { max: Number.POSITIVE_INFINITY, ok: false };
        checks.push({
          ...b2,
          outputShape: yb.shape,
          maxAbsError: Math.max(e0.max, e1.max),
          ok: e0.ok && e1.ok,
        });
      } catch (err) {
        checks.push({ ...b2, outputShape: [], maxAbsError: null, ok: false, error: (err as Error).message });
      }
    }
  } finally {
    await model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return { zip: zipPath, ok: checks.every((c) => c.ok), tolerance: tol, checks };
}
