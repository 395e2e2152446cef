/**
 * Test tensors against their descriptions (mirrors bioimageio.spec `validate_tensors`): rank,
 * dtype, values not all near zero, and every axis size (fixed, min + n*step, data-dependent
 * bounds, references to other tensors' axes with scale and offset).
 */

import {
  type AnyAxis,
  axisId,
  axisScale,
  axisSize,
  axisUnit,
  isDataDependentSize,
  isParameterizedSize,
  isSizeReference,
} from '../axes.js';
import { type Issue, isSpecError, issue, pointer } from '../errors.js';
import { normalizeName } from '../file-source.js';
import { imageDims } from '../image-dims.js';
import type { ModelDescr } from '../model.js';
import { type NpyHeader, npyStats, parseNpyHeader } from '../npy.js';
import { type AnyTensor, inputId, outputId, tensorDtype } from '../tensors.js';
import { isUrl } from './file-refs.js';

const NUMERIC = new Set([
  'float32',
  'float64',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'uint64',
  'int64',
]);

interface Loaded {
  kind: 'inputs' | 'outputs';
  index: number;
  id: string;
  tensor: AnyTensor;
  header: NpyHeader | undefined;
  max: number | undefined;
  /** axis id → actual size, or undefined when the test tensor is missing or has the wrong rank. */
  sizes: Map<string, number> | undefined;
}

/** Axes a sample image may drop (size can be 1), as bioimageio.spec counts them. */
function maySqueeze(a: AnyAxis): boolean {
  if (a.type === 'batch') return true;
  const size = axisSize(a);
  if (typeof size === 'number') return size === 1;
  if (isParameterizedSize(size)) return size.min === 1;
  if (isSizeReference(size)) return (size.offset ?? 0) < 2;
  return (size?.min ?? 1) === 1;
}

export function checkTestTensors(d: ModelDescr, contents: ReadonlyMap<string, Uint8Array>): Issue[] {
  const out: Issue[] = [];
  const loaded: Loaded[] = [];
  const load = (kind: 'inputs' | 'outputs', index: number, id: string, tensor: AnyTensor) => {
    const entry: Loaded = { kind, index, id, tensor, header: undefined, max: undefined, sizes: undefined };
    loaded.push(entry);
    const src = tensor.test_tensor?.source;
    if (src === undefined || isUrl(src)) return;
    const bytes = contents.get(normalizeName(src));
    if (bytes === undefined) return; // reported by the file checks
    const p = pointer(kind, index, 'test_tensor');
    try {
      entry.header = parseNpyHeader(bytes);
    } catch (err) {
      if (!isSpecError(err)) throw err;
      out.push(issue('npy', p, `test tensor '${src}': ${err.message}`, err.hint));
      return;
    }
    const h = entry.header;
    if (h.shape.length !== tensor.axes.length) {
      out.push(
        issue(
          'test-tensor',
          p,
          `test tensor '${src}' has shape (${h.shape.join(', ')}), rank ${h.shape.length}, but '${id}' has ${tensor.axes.length} axes [${tensor.axes.map(axisId).join(', ')}]`,
          'Save the test tensor with exactly one dimension per axis, in axis order (e.g. [1, C, Z, Y, X]).',
        ),
      );
    } else {
      entry.sizes = new Map(tensor.axes.map((a, i) => [axisId(a), h.shape[i] as number]));
    }
    const declared = tensorDtype(tensor);
    const ok = declared === 'float32' || declared === 'float64' ? NUMERIC.has(h.dtype) : h.dtype === declared;
    if (!ok)
      out.push(
        issue(
          'test-tensor',
          p,
          `test tensor '${src}' has dtype ${h.dtype}, '${id}' declares ${declared}`,
          `Save it as ${declared} or change data.type.`,
        ),
      );
    const stats = npyStats(bytes, h);
    entry.max = stats.max;
    if (stats.count > 0 && stats.min > -1e-4 && stats.max < 1e-4) {
      out.push(
        issue(
          'test-tensor',
          p,
          `test tensor '${src}' is all near zero (min ${stats.min}, max ${stats.max})`,
          'Use a test input with real image content and values beyond ±1e-4.',
        ),
      );
    }
  };
  d.inputs.forEach((t, i) => {
    load('inputs', i, inputId(t), t);
  });
  d.outputs.forEach((t, i) => {
    load('outputs', i, outputId(t), t);
  });

  const byId = new Map(loaded.map((l) => [l.id, l]));
  for (const l of loaded) {
    if (l.sizes === undefined) continue;
    l.tensor.axes.forEach((a: AnyAxis, j) => {
      const actual = l.sizes?.get(axisId(a)) as number;
      const size = axisSize(a);
      const p = pointer(l.kind, l.index, 'test_tensor');
      const where = `test tensor of '${l.id}', axis '${axisId(a)}'`;
      if (size === null) return;
      if (typeof size === 'number') {
        if (actual !== size)
          out.push(
            issue(
              'test-tensor',
              p,
              `${where}: size ${actual}, expected ${size}`,
              `Save the test tensor with size ${size} on this axis.`,
            ),
          );
      } else if (isParameterizedSize(size)) {
        if (actual < size.min)
          out.push(
            issue(
              'test-tensor',
              p,
              `${where}: size ${actual} < minimum ${size.min}`,
              `Use a size min + n*step (${size.min}, ${size.min + size.step}, …).`,
            ),
          );
        else if ((actual - size.min) % size.step !== 0)
          out.push(
            issue(
              'test-tensor',
              p,
              `${where}: size ${actual} is not ${size.min} + n*${size.step}`,
              `Use ${size.min + Math.floor((actual - size.min) / size.step) * size.step} or ${size.min + Math.ceil((actual - size.min) / size.step) * size.step}.`,
            ),
          );
      } else if (isSizeReference(size)) {
        const ref = byId.get(size.tensor_id);
        const refAxis = ref?.tensor.axes.find((x) => axisId(x) === size.axis_id);
        const refSize = ref?.sizes?.get(size.axis_id);
        if (ref === undefined || refAxis === undefined || refSize === undefined) {
          out.push(
            issue(
              'test-tensor',
              pointer(l.kind, l.index, 'axes', j, 'size'),
              `${where}: referenced ${size.tensor_id}.${size.axis_id} has no test tensor size to compare with`,
              `Give '${size.tensor_id}' a test tensor of the right rank.`,
            ),
          );
          return;
        }
        if (axisUnit(a) !== axisUnit(refAxis)) return; // reported by the static checks
        const expected = (refSize * axisScale(refAxis)) / axisScale(a) + (size.offset ?? 0);
        if (actual !== expected)
          out.push(
            issue(
              'test-tensor',
              p,
              `${where}: size ${actual}, but ${size.tensor_id}.${size.axis_id} (size ${refSize}) gives ${expected}`,
              'Make the test output match the model output size for the test input (before cropping the halo).',
            ),
          );
      } else if (isDataDependentSize(size)) {
        const min = size.min ?? 1;
        if (actual < min)
          out.push(
            issue('test-tensor', p, `${where}: size ${actual} < minimum ${min}`, 'Check the test output.'),
          );
        if (size.max !== undefined && size.max !== null && actual > size.max)
          out.push(
            issue(
              'test-tensor',
              p,
              `${where}: size ${actual} > maximum ${size.max}`,
              'Check the test output.',
            ),
          );
      }
    });
  }

  // Sample tensors: after squeeze(), the rank must lie between the axes that cannot be singleton and all axes.
  for (const l of loaded) {
    const src = l.tensor.sample_tensor?.source;
    if (src === undefined || isUrl(src)) continue;
    const bytes = contents.get(normalizeName(src));
    if (bytes === undefined) continue;
    const p = pointer(l.kind, l.index, 'sample_tensor');
    const read = imageDims(src, bytes);
    if (read === undefined) continue;
    if ('problem' in read) {
      out.push(
        issue(
          'test-tensor',
          p,
          `sample tensor '${src}': ${read.problem}`,
          'Write the sample as a TIFF (ImageJ) or PNG that imageio can read.',
        ),
      );
      continue;
    }
    const ndim = read.dims.filter((d) => d !== 1).length;
    const max = l.tensor.axes.length;
    const min = Math.max(0, max - l.tensor.axes.filter(maySqueeze).length);
    if (ndim < min || ndim > max) {
      out.push(
        issue(
          'test-tensor',
          p,
          `sample tensor '${src}' has ${ndim} non-singleton dimensions (${read.dims.join('×')}), '${l.id}' needs ${min} to ${max}`,
          'Save the sample with one image dimension per axis (singleton axes may be dropped).',
        ),
      );
    }
  }

  // config.bioimageio.reproducibility_tolerance: absolute_tolerance must be ≤ 1% of the test output max.
  const bio = (d.config?.bioimageio ?? {}) as {
    reproducibility_tolerance?: { absolute_tolerance?: number; output_ids?: string[] }[];
  };
  (bio.reproducibility_tolerance ?? []).forEach((tol, k) => {
    const atol = tol.absolute_tolerance ?? 1e-3;
    if (!atol) return;
    for (const l of loaded.filter((x) => x.kind === 'outputs')) {
      if (tol.output_ids?.length && !tol.output_ids.includes(l.id)) continue;
      if (l.max !== undefined && atol > l.max * 0.01) {
        out.push(
          issue(
            'test-tensor',
            pointer('config', 'bioimageio', 'reproducibility_tolerance', k, 'absolute_tolerance'),
            `absolute_tolerance ${atol} > 1% of the maximum (${l.max}) of test output '${l.id}'`,
            'Lower absolute_tolerance or check the test output values.',
          ),
        );
      }
    }
  });
  return out;
}
