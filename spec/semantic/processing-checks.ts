/** Pre/postprocessing kwargs that the JSON schema cannot check. */

import { axisId } from '../axes.js';
import { type Issue, issue, pointer } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { type PostprocessingStep, stepKwargs } from '../processing.js';
import { inputId } from '../tensors.js';
import { tensorsOf } from './located.js';

export function checkProcessing(d: ModelDescr, out: Issue[]): void {
  const inputIds = new Set(d.inputs.map(inputId));
  for (const t of tensorsOf(d)) {
    const field = t.kind === 'inputs' ? 'preprocessing' : 'postprocessing';
    const steps = (t.tensor as { preprocessing?: unknown; postprocessing?: unknown })[field] as
      | readonly PostprocessingStep[]
      | undefined;
    const axisIds = new Set(t.tensor.axes.map(axisId));
    (steps ?? []).forEach((step, k) => {
      const p = pointer(t.kind, t.index, field, k, 'kwargs');
      const kw = stepKwargs(step);
      const axes = kw.axes;
      if (Array.isArray(axes) && axes.some((a) => !axisIds.has(String(a)))) {
        out.push(
          issue(
            'processing',
            `${p}/axes`,
            `${step.id} axes [${axes.join(', ')}] are not all axes of '${t.id}' (${[...axisIds].join(', ')})`,
            'List only axis ids of this tensor.',
          ),
        );
      }
      const axis = kw.axis;
      if (typeof axis === 'string' && !axisIds.has(axis)) {
        out.push(
          issue(
            'processing',
            `${p}/axis`,
            `${step.id} axis '${axis}' is not an axis of '${t.id}'`,
            'Use an axis id of this tensor.',
          ),
        );
      }
      const ref = kw.reference_tensor;
      if (typeof ref === 'string' && !inputIds.has(ref)) {
        out.push(
          issue(
            'processing',
            `${p}/reference_tensor`,
            `reference_tensor '${ref}' is not an input`,
            `Use one of: ${[...inputIds].join(', ')}.`,
          ),
        );
      }
      if (step.id === 'scale_linear') {
        const g = kw.gain ?? 1;
        const o = kw.offset ?? 0;
        const gl = Array.isArray(g) ? g : [g];
        const ol = Array.isArray(o) ? o : [o];
        if (Array.isArray(g) && Array.isArray(o) && g.length !== o.length) {
          out.push(
            issue(
              'processing',
              p,
              `scale_linear gain (${g.length}) and offset (${o.length}) lengths differ`,
              'Give one gain and offset per entry along the axis.',
            ),
          );
        } else if ('axis' in kw && !Array.isArray(g) && !Array.isArray(o)) {
          out.push(
            issue(
              'processing',
              p,
              'scale_linear has an axis but scalar gain and offset',
              'Drop axis for scalar values, or give lists.',
            ),
          );
        } else if (gl.every((x) => x === 1) && ol.every((x) => x === 0)) {
          out.push(
            issue(
              'processing',
              p,
              'scale_linear with gain 1 and offset 0 does nothing',
              'Remove the step or set gain/offset.',
            ),
          );
        }
      }
      if (
        step.id === 'fixed_zero_mean_unit_variance' &&
        Array.isArray(kw.mean) &&
        Array.isArray(kw.std) &&
        kw.mean.length !== kw.std.length
      ) {
        out.push(
          issue(
            'processing',
            p,
            `mean (${kw.mean.length}) and std (${kw.std.length}) lengths differ`,
            'Give one mean and std per entry along the axis.',
          ),
        );
      }
      if (step.id === 'scale_range' || step.id === 'clip') {
        const lo = kw.min_percentile;
        const hi = kw.max_percentile;
        if (typeof lo === 'number' && typeof hi === 'number' && lo >= hi) {
          out.push(
            issue(
              'processing',
              p,
              `min_percentile ${lo} >= max_percentile ${hi}`,
              'Make min_percentile smaller than max_percentile.',
            ),
          );
        }
      }
      if (step.id === 'clip') {
        const has = (k: string) => kw[k] !== undefined && kw[k] !== null;
        if (has('min') && has('min_percentile'))
          out.push(issue('processing', p, 'clip sets both min and min_percentile', 'Set only one of them.'));
        if (has('max') && has('max_percentile'))
          out.push(issue('processing', p, 'clip sets both max and max_percentile', 'Set only one of them.'));
        if (!['min', 'max', 'min_percentile', 'max_percentile'].some(has))
          out.push(issue('processing', p, 'clip sets no bound', 'Set min and/or max.'));
        else if (has('axes') && !has('min_percentile') && !has('max_percentile'))
          out.push(
            issue('processing', p, 'clip axes given without percentiles', 'Drop axes or use percentiles.'),
          );
      }
    });
  }
}
