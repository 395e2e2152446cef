/**
 * What deepImageJ 3.x / JDLL needs; returns every violation. See the bioimageio reference
 * sheet §5: rdf.yaml at the root, explicit space-axis ids, ONNX opset ≤ 18, JDLL's processing set.
 */

import { axisId, isParameterizedSize } from '../axes.js';
import { type Issue, isSpecError, issue, pointer, warning } from '../errors.js';
import { normalizeName } from '../file-source.js';
import type { ModelDescr } from '../model.js';
import { defaultOpset, readOnnxOpsets } from '../onnx-opset.js';
import { JDLL_PROCESSING_IDS } from '../processing.js';
import { inputId } from '../tensors.js';

/** JDLL's engine table maps ONNX opsets 6–18 to onnxruntime-java; 19+ has no engine. */
export const JDLL_MAX_ONNX_OPSET = 18;

export interface DeepImageJContext {
  /** The RDF file name as found in the package ('rdf.yaml' expected, at the root). */
  readonly rdfName?: string;
  /** File bytes by name (from the file checks), to read the ONNX opset from the model itself. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

export function checkDeepImageJ(d: ModelDescr, ctx: DeepImageJContext = {}): Issue[] {
  const out: Issue[] = [];
  const err = (path: string, message: string, hint: string) =>
    out.push(issue('deepimagej', path, message, hint));

  if (ctx.rdfName !== undefined && ctx.rdfName !== 'rdf.yaml') {
    err(
      '',
      `the description is '${ctx.rdfName}'; JDLL only opens 'rdf.yaml' at the package root`,
      'Name it rdf.yaml and put it at the zip root.',
    );
  }
  const runnable = (['onnx', 'torchscript', 'tensorflow_saved_model_bundle', 'keras_hdf5'] as const).filter(
    (f) => d.weights[f],
  );
  if (runnable.length === 0) {
    if (d.weights.pytorch_state_dict)
      out.push(
        warning(
          'deepimagej',
          '/weights',
          'only pytorch_state_dict weights: deepImageJ needs its optional Python (Appose) environment',
          'Add onnx (opset ≤ 18) or torchscript weights.',
        ),
      );
    else
      err(
        '/weights',
        'no weights format deepImageJ can run (onnx, torchscript, tensorflow_saved_model_bundle, keras_hdf5)',
        'Add onnx (opset ≤ 18) or torchscript weights.',
      );
  }

  const onnx = d.weights.onnx;
  if (onnx) {
    let fileOpset: number | undefined;
    const bytes = ctx.files?.get(normalizeName(onnx.source));
    if (bytes !== undefined) {
      try {
        fileOpset = defaultOpset(readOnnxOpsets(bytes));
      } catch (e) {
        if (!isSpecError(e)) throw e;
        err('/weights/onnx/source', e.message, e.hint);
      }
    }
    if (fileOpset !== undefined && fileOpset !== onnx.opset_version) {
      err(
        '/weights/onnx/opset_version',
        `opset_version ${onnx.opset_version} differs from the opset ${fileOpset} in ${onnx.source}`,
        `Write opset_version: ${fileOpset}.`,
      );
    }
    const opset = fileOpset ?? onnx.opset_version;
    if (opset > JDLL_MAX_ONNX_OPSET)
      err(
        '/weights/onnx/opset_version',
        `ONNX opset ${opset} > ${JDLL_MAX_ONNX_OPSET}: JDLL has no engine for it`,
        'Export with opset 17 or 18.',
      );
  }

  for (const [kind, tensors] of [
    ['inputs', d.inputs],
    ['outputs', d.outputs],
  ] as const) {
    tensors.forEach((t, i) => {
      t.axes.forEach((a, j) => {
        if (a.type === 'space' && a.id === undefined)
          err(
            pointer(kind, i, 'axes', j),
            'space axis without an explicit id; JDLL throws on it',
            'Write id: x (or y, z) on every space axis.',
          );
        else if (a.type === 'space' && !['x', 'y', 'z'].includes(axisId(a)))
          out.push(
            warning(
              'deepimagej',
              pointer(kind, i, 'axes', j, 'id'),
              `space axis '${axisId(a)}' does not map to an ImageJ dimension`,
              'Use x, y or z.',
            ),
          );
      });
      const field = kind === 'inputs' ? 'preprocessing' : 'postprocessing';
      const steps = ((t as { preprocessing?: { id: string }[]; postprocessing?: { id: string }[] })[field] ??
        []) as { id: string }[];
      steps.forEach((s, k) => {
        if (!JDLL_PROCESSING_IDS.has(s.id as never))
          err(
            pointer(kind, i, field, k, 'id'),
            `JDLL has no '${s.id}' ${field}`,
            s.id === 'softmax'
              ? 'Apply softmax inside the network.'
              : 'Do this step inside the network, or use a step JDLL supports.',
          );
      });
    });
  }
  d.inputs.forEach((t, i) => {
    if (!t.test_tensor && !t.sample_tensor)
      err(
        pointer('inputs', i),
        `input '${inputId(t)}' has neither test_tensor nor sample_tensor; deepImageJ's Test button needs one`,
        'Add a test_tensor (.npy) and a sample_tensor (.tif).',
      );
  });
  const dij = (d.config?.deepimagej ?? {}) as { allow_tiling?: unknown };
  if (dij.allow_tiling === false) {
    d.inputs.forEach((t, i) => {
      t.axes.forEach((a, j) => {
        if (a.type !== 'batch' && a.type !== 'channel' && isParameterizedSize(a.size))
          err(
            pointer('inputs', i, 'axes', j, 'size'),
            'config.deepimagej.allow_tiling is false but this axis has min/step; JDLL refuses ("Model specs too complex")',
            'Allow tiling or give fixed sizes.',
          );
      });
    });
  }
  return out;
}
