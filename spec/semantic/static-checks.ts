/**
 * Checks bioimageio.spec makes in Python validators (not in its JSON schema) that need no files:
 * ids, name, axes and size references, halos, data per channel, processing kwargs, weights graph,
 * licence, and the FAIR warnings.
 */

import {
  type AnyAxis,
  axisId,
  axisScale,
  axisSize,
  axisUnit,
  isParameterizedSize,
  isSizeReference,
} from '../axes.js';
import { type Issue, issue, pointer, warning } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { stepKwargs } from '../processing.js';
import spdx from '../schemas/generated/spdx-licenses.json' with { type: 'json' };
import tagCategories from '../schemas/generated/tag-categories.json' with { type: 'json' };
import { type AnyTensor, inputId, outputId, type TensorData } from '../tensors.js';
import { presentWeights } from '../weights.js';
import { identifierProblem, lowerCaseProblem, NAME_CHARS } from './identifiers.js';

const SPDX_IDS: ReadonlySet<string> = new Set(spdx.ids);
const SPDX_DEPRECATED: ReadonlySet<string> = new Set(spdx.deprecated);

type Kind = 'inputs' | 'outputs';
interface Located {
  kind: Kind;
  index: number;
  id: string;
  tensor: AnyTensor;
}

function tensorsOf(d: ModelDescr): Located[] {
  return [
    ...d.inputs.map((t, index) => ({ kind: 'inputs' as const, index, id: inputId(t), tensor: t })),
    ...d.outputs.map((t, index) => ({ kind: 'outputs' as const, index, id: outputId(t), tensor: t })),
  ];
}

function checkName(d: ModelDescr, out: Issue[]): void {
  if (!NAME_CHARS.test(d.name)) {
    const bad = [...new Set([...d.name].filter((c) => !NAME_CHARS.test(c)))].join('');
    out.push(
      issue(
        'name',
        '/name',
        `name contains characters that are not allowed: ${JSON.stringify(bad)}`,
        'Use only letters, digits, spaces and _ + - ( ).',
      ),
    );
  }
}

function checkIds(d: ModelDescr, out: Issue[]): void {
  const seen = new Map<string, string>();
  for (const t of tensorsOf(d)) {
    const p = pointer(t.kind, t.index, 'id');
    const caseProb = lowerCaseProblem(t.id);
    if (caseProb) {
      out.push(
        warning(
          'id',
          p,
          `tensor id ${caseProb}`,
          'Use lower case: the spec requires it, though bioimageio.spec does not enforce it.',
        ),
      );
    }
    const prob = identifierProblem(t.id);
    if (prob)
      out.push(
        issue(
          'id',
          p,
          `tensor id ${prob}`,
          'Use a lower-case identifier such as raw or prediction (at most 32 characters).',
        ),
      );
    if (seen.has(t.id))
      out.push(
        issue(
          'tensor-ids',
          p,
          `duplicate tensor id '${t.id}' (also ${seen.get(t.id)})`,
          'Give every input and output a unique id.',
        ),
      );
    else seen.set(t.id, p);

    const axisIds = new Set<string>();
    let batches = 0;
    t.tensor.axes.forEach((a: AnyAxis, j: number) => {
      const ap = pointer(t.kind, t.index, 'axes', j);
      const id = axisId(a);
      const acase = lowerCaseProblem(id);
      if (acase) {
        out.push(
          warning(
            'id',
            `${ap}/id`,
            `axis id ${acase}`,
            'Use lower case (z, y, x): the spec requires it, though bioimageio.spec does not enforce it.',
          ),
        );
      }
      const aprob = identifierProblem(id);
      if (aprob)
        out.push(
          issue(
            'id',
            `${ap}/id`,
            `axis id ${aprob}`,
            'Use a lower-case identifier (at most 16 characters), e.g. z, y, x.',
          ),
        );
      if (axisIds.has(id))
        out.push(
          issue(
            'axes',
            ap,
            `duplicate axis id '${id}' in tensor '${t.id}'`,
            a.type === 'space' && a.id === undefined
              ? "Space axes default to id 'x': give each one an explicit id (z, y, x)."
              : 'Give every axis of a tensor a unique id.',
          ),
        );
      axisIds.add(id);
      if (a.type === 'batch') batches++;
      if (a.type === 'channel') {
        a.channel_names.forEach((c, k) => {
          const cp = identifierProblem(c);
          if (cp)
            out.push(
              issue(
                'id',
                `${ap}/channel_names/${k}`,
                `channel name ${cp}`,
                'Use identifiers such as membrane or aff_z.',
              ),
            );
        });
      }
    });
    if (batches > 1)
      out.push(
        issue(
          'axes',
          pointer(t.kind, t.index, 'axes'),
          `tensor '${t.id}' has ${batches} batch axes`,
          'Keep at most one batch axis per tensor.',
        ),
      );
  }
}

type RefTarget = { tensor: Located; axis: AnyAxis };

/** Mirrors ModelDescr._validate_axis: SizeReference targets, units, halos. */
function checkAxisReferences(d: ModelDescr, out: Issue[]): void {
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

const DTYPE_LIMITS: Readonly<Record<string, readonly [number, number]>> = {
  float32: [-3.4028235e38, 3.4028235e38],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
  uint64: [0, 2 ** 64 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
};

/** Nominal/ordinal `values` must fit `type` (bioimageio.spec `_validate_values_match_type`). */
function nominalProblem(data: TensorData): string | undefined {
  if (!('values' in data)) return undefined;
  const type = data.type ?? 'uint8';
  const bad = data.values.filter((v) => {
    if (type === 'bool') return typeof v !== 'boolean';
    const lim = DTYPE_LIMITS[type];
    if (lim === undefined) return true;
    if (typeof v === 'number')
      return v < lim[0] || v > lim[1] || (!Number.isInteger(v) && type.includes('int'));
    return typeof v === 'string' && !type.includes('uint');
  });
  return bad.length
    ? `data type '${type}' is incompatible with values ${JSON.stringify(bad.slice(0, 5))}`
    : undefined;
}

function checkData(d: ModelDescr, out: Issue[]): void {
  for (const t of tensorsOf(d)) {
    const data = t.tensor.data;
    const list = (Array.isArray(data) ? data : data === undefined ? [] : [data]) as TensorData[];
    list.forEach((x, k) => {
      const prob = nominalProblem(x);
      if (prob)
        out.push(
          issue(
            'data',
            Array.isArray(data) ? pointer(t.kind, t.index, 'data', k) : pointer(t.kind, t.index, 'data'),
            prob,
            'Use values that fit the data type, or change the type.',
          ),
        );
    });
    if (!Array.isArray(data)) continue;
    const p = pointer(t.kind, t.index, 'data');
    const types = new Set(
      (data as TensorData[]).map((x) => ('values' in x ? (x.type ?? 'uint8') : (x.type ?? 'float32'))),
    );
    if (types.size > 1)
      out.push(
        issue(
          'data',
          p,
          `per-channel data types differ: ${[...types].join(', ')}`,
          'Use the same data type for every channel.',
        ),
      );
    const channel = t.tensor.axes.find((a) => a.type === 'channel');
    if (channel && channel.type === 'channel' && data.length !== channel.channel_names.length) {
      out.push(
        issue(
          'data',
          p,
          `${data.length} per-channel data descriptions for ${channel.channel_names.length} channels`,
          'Give one data description per channel, or a single one for all.',
        ),
      );
    }
  }
}

function checkProcessing(d: ModelDescr, out: Issue[]): void {
  const inputIds = new Set(d.inputs.map(inputId));
  for (const t of tensorsOf(d)) {
    const field = t.kind === 'inputs' ? 'preprocessing' : 'postprocessing';
    const steps = (t.tensor as { preprocessing?: unknown; postprocessing?: unknown })[field] as
      | readonly import('../processing.js').PostprocessingStep[]
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

function checkWeights(d: ModelDescr, out: Issue[]): void {
  const present = presentWeights(d.weights);
  if (present.length === 0) {
    out.push(
      issue(
        'weights',
        '/weights',
        'no weights entry',
        'Add at least one weights format (e.g. onnx, torchscript).',
      ),
    );
    return;
  }
  const formats = new Set(present.map(([f]) => f));
  let roots = 0;
  for (const [f, w] of present) {
    if (w.parent === undefined || w.parent === null) roots++;
    else if (w.parent === f)
      out.push(
        issue(
          'weights',
          pointer('weights', f, 'parent'),
          `weights.${f} is its own parent`,
          'Name the format these weights were converted from, or drop parent.',
        ),
      );
    else if (!formats.has(w.parent))
      out.push(
        issue(
          'weights',
          pointer('weights', f, 'parent'),
          `weights.${f}.parent '${w.parent}' is not a listed weights format`,
          `Use one of: ${[...formats].join(', ')}.`,
        ),
      );
  }
  if (roots !== 1)
    out.push(
      warning(
        'weights',
        '/weights',
        `${roots} weights entries have no parent; exactly one should`,
        'Mark converted formats with parent: <original format>.',
      ),
    );
  if (d.parent && d.id !== undefined && d.parent.id === d.id)
    out.push(
      issue('id', '/parent/id', 'the model names itself as parent', 'Remove parent or name another model.'),
    );
}

function checkMetadata(d: ModelDescr, out: Issue[]): void {
  if (d.name.length > 64)
    out.push(
      warning(
        'name',
        '/name',
        `name is ${d.name.length} characters (over 64)`,
        'Shorten the name to 64 characters.',
      ),
    );
  (d.authors ?? []).forEach((a, i) => {
    if (/[/\\]/.test(a.name))
      out.push(
        issue(
          'fair',
          pointer('authors', i, 'name'),
          `author name '${a.name}' contains a slash`,
          'Remove / and \\ from author names.',
        ),
      );
  });
  (d.packaged_by ?? []).forEach((a, i) => {
    if (/[/\\]/.test(a.name))
      out.push(
        issue(
          'fair',
          pointer('packaged_by', i, 'name'),
          `name '${a.name}' contains a slash`,
          'Remove / and \\ from names.',
        ),
      );
  });
  (d.cite ?? []).forEach((c, i) => {
    if (!c.doi && !c.url)
      out.push(
        issue(
          'fair',
          pointer('cite', i),
          'cite entry has neither doi nor url',
          'Add a doi (10.xxxx/…) or a url.',
        ),
      );
  });
  if (typeof d.license === 'string') {
    if (SPDX_DEPRECATED.has(d.license))
      out.push(
        warning(
          'license',
          '/license',
          `licence '${d.license}' is a deprecated SPDX id`,
          'Use the current SPDX id (e.g. GPL-3.0-only instead of GPL-3.0).',
        ),
      );
    else if (!SPDX_IDS.has(d.license))
      out.push(
        issue(
          'license',
          '/license',
          `'${d.license}' is not an SPDX licence id`,
          'Use an id from https://spdx.org/licenses/ such as MIT, BSD-3-Clause or CC-BY-4.0.',
        ),
      );
  }

  const fair = (path: string, field: string, empty: boolean) => {
    if (empty)
      out.push(
        warning(
          'fair',
          path,
          `${field} is empty`,
          `Fill ${field} (FAIR metadata; bioimage.io lists it as an alert).`,
        ),
      );
  };
  fair('/description', 'description', !d.description);
  fair('/authors', 'authors', !d.authors?.length);
  fair('/cite', 'cite', !d.cite?.length);
  fair('/license', 'license', !d.license);
  fair('/documentation', 'documentation', !d.documentation);
  fair('/tags', 'tags', !d.tags?.length);
  for (const t of tensorsOf(d)) {
    fair(pointer(t.kind, t.index, 'test_tensor'), `${t.kind}[${t.id}].test_tensor`, !t.tensor.test_tensor);
    fair(
      pointer(t.kind, t.index, 'sample_tensor'),
      `${t.kind}[${t.id}].sample_tensor`,
      !t.tensor.sample_tensor,
    );
  }
  if (!d.maintainers?.length && !(d.authors ?? []).some((a) => a.github_user)) {
    out.push(
      warning(
        'fair',
        '/maintainers',
        'no maintainer and no author with github_user',
        'Add github_user to an author or list maintainers.',
      ),
    );
  }
  const categories = (tagCategories as Record<string, Record<string, string[]>>).model ?? {};
  const tags = new Set(d.tags ?? []);
  const missing = Object.entries(categories)
    .filter(([, entries]) => !entries.some((e) => tags.has(e)))
    .map(([cat]) => cat);
  if (missing.length > 0)
    out.push(
      warning(
        'tags',
        '/tags',
        `no tag from the bioimage.io categories: ${missing.join(', ')}`,
        `Add tags such as ${missing.map((c) => categories[c]?.[0]).join(', ')}.`,
      ),
    );
}

/** Every static finding (errors and warnings) for a schema-valid description. */
export function staticChecks(d: ModelDescr): Issue[] {
  const out: Issue[] = [];
  checkName(d, out);
  checkIds(d, out);
  checkAxisReferences(d, out);
  checkData(d, out);
  checkProcessing(d, out);
  checkWeights(d, out);
  checkMetadata(d, out);
  return out;
}
