/** Size references between axes, units and halos (mirrors bioimageio.spec `ModelDescr._validate_axis`). */

import {
  type AnyAxis,
  axisId,
  axisScale,
  axisSize,
  axisUnit,
  isParameterizedSize,
  isSizeReference,
} from '../axes.js';
import { type Issue, issue, pointer } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { type Located, tensorsOf } from './located.js';

type RefTarget = { tensor: Located; axis: AnyAxis };

/** Mirrors ModelDescr._validate_axis: SizeReference targets, units, halos. */
export function checkAxisReferences(d: ModelDescr, out: Issue[]): void {
  const all = tensorsOf(d);
  const independent = (ts: Located[]) => {
    const m = new Map<string, RefTarget>();
    for (const t of ts) {
      for (const a of t.tensor.axes) {
        if (a.type === 'batch') continue;
        const s = axisSize(a);
        if (typeof s === 'number' || isParameterizedSize(s))
          m.set(`${t.id}.${axisId(a)}`, { tensor: t, axis: a });
      }
    }
    return m;
  };
  const inputRefs = independent(all.filter((t) => t.kind === 'inputs'));
  const outputRefs = independent(all.filter((t) => t.kind === 'outputs'));
  for (const t of all) {
    const valid =
      t.kind === 'inputs'
        ? new Map([...independent([t]), ...inputRefs])
        : new Map([...independent([t]), ...inputRefs, ...outputRefs]);
    t.tensor.axes.forEach((a, j) => {
      if (a.type === 'batch' || a.type === 'channel') return;
      const size = a.size;
      if (!isSizeReference(size)) return;
      const p = pointer(t.kind, t.index, 'axes', j, 'size');
      const key = `${size.tensor_id}.${size.axis_id}`;
      const target = valid.get(key);
      if (target === undefined) {
        out.push(
          issue(
            'axes',
            p,
            `size references ${key}, which is not an ${t.kind === 'inputs' ? 'input' : 'input or output'} axis with a fixed or parameterized size`,
            t.kind === 'inputs'
              ? 'Reference an existing input axis (not a batch axis, not itself sized by a reference).'
              : 'Reference an existing input (or output) axis with a fixed or min/step size.',
          ),
        );
        return;
      }
      if (size.tensor_id === t.id && size.axis_id === axisId(a)) {
        out.push(issue('axes', p, `axis '${axisId(a)}' references itself`, 'Reference another axis.'));
        return;
      }
      if (axisUnit(a) !== axisUnit(target.axis)) {
        out.push(
          issue(
            'axes',
            p,
            `unit '${axisUnit(a)}' differs from the referenced axis' unit '${axisUnit(target.axis)}'`,
            'Give both axes the same unit (or none).',
          ),
        );
        return;
      }
      const halo = a.type === 'index' ? undefined : a.halo;
      if (halo !== undefined) {
        const refSize = axisSize(target.axis);
        const refMin = typeof refSize === 'number' ? refSize : isParameterizedSize(refSize) ? refSize.min : 0;
        const minSize = Math.trunc((refMin * axisScale(target.axis)) / axisScale(a) + (size.offset ?? 0));
        if (minSize - 2 * halo < 1) {
          out.push(
            issue(
              'axes',
              pointer(t.kind, t.index, 'axes', j, 'halo'),
              `axis '${axisId(a)}' with minimum size ${minSize} is too small for halo ${halo}`,
              `Lower the halo below ${Math.ceil(minSize / 2)} or raise the referenced minimum size.`,
            ),
          );
        }
        const refHalo = (halo * axisScale(a)) / axisScale(target.axis);
        if (!Number.isInteger(refHalo)) {
          out.push(
            issue(
              'axes',
              pointer(t.kind, t.index, 'axes', j, 'halo'),
              `halo ${halo} × scale ${axisScale(a)} / ${key} scale ${axisScale(target.axis)} = ${refHalo} is not an integer`,
              'Choose a halo that maps to whole input pixels.',
            ),
          );
        }
      }
    });
  }
}
