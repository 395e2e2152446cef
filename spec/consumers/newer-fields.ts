/**
 * Fields added to the model spec after 0.5.4. We write format 0.5.4 because ilastik 1.4.1's spec
 * library (bioimageio.spec 0.5.3/0.5.4 via tiktorch 25.4) forbids unknown keys.
 */

import { type Issue, issue, pointer, type Severity } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { stepKwargs } from '../processing.js';

export function newerThan054(d: ModelDescr, severity: Severity, who: string): Issue[] {
  const out: Issue[] = [];
  const hint = 'Leave it out: descriptions we write use format 0.5.4.';
  const add = (path: string, what: string) =>
    out.push(issue('newer-field', path, `${what} is newer than format 0.5.4 (${who})`, hint, severity));
  if (d.version_comment !== undefined && d.version_comment !== null)
    add('/version_comment', 'version_comment (0.5.5)');
  const tensors = [
    ...d.inputs.map((t, i) => ['inputs', i, 'preprocessing', t.preprocessing ?? []] as const),
    ...d.outputs.map((t, i) => ['outputs', i, 'postprocessing', t.postprocessing ?? []] as const),
  ];
  for (const [kind, i, field, steps] of tensors) {
    steps.forEach((s, k) => {
      const p = pointer(kind, i, field, k);
      if (s.id === 'softmax') add(p, 'softmax (0.5.5)');
      const kw = stepKwargs(s);
      if (s.id === 'clip' && (kw.min_percentile != null || kw.max_percentile != null || kw.axes != null))
        add(`${p}/kwargs`, 'clip percentiles/axes (0.5.7)');
    });
  }
  if (d.weights.onnx?.external_data) add('/weights/onnx/external_data', 'onnx external_data (0.5.6)');
  if (d.weights.keras_v3) add('/weights/keras_v3', 'keras_v3 weights');
  (d.outputs ?? []).forEach((t, i) => {
    (t.postprocessing ?? []).forEach((s, k) => {
      if ((s.id as string) === 'stardist_postprocessing')
        add(pointer('outputs', i, 'postprocessing', k), 'stardist_postprocessing');
    });
  });
  return out;
}

/** What a description we write must satisfy beyond validity: format 0.5.4 and no newer fields. */
export function checkWriteProfile(d: ModelDescr): Issue[] {
  const out = newerThan054(d, 'error', 'we write 0.5.4');
  if (d.format_version !== '0.5.4') {
    out.push(
      issue(
        'newer-field',
        '/format_version',
        `format_version is ${d.format_version}, we write 0.5.4`,
        "Write format_version: '0.5.4' (a string with three parts).",
      ),
    );
  }
  return out;
}
