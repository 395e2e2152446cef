/**
 * Convert a schema-valid 0.4.x model description into the 0.5 shape (what bioimageio.spec's
 * `_ModelConv` does), so the rest of spec/ only knows 0.5 types. Lossy only for exotic cases;
 * each approximation is reported as a warning.
 */

import { type Issue, pointer, warning } from './errors.js';

type Obj = Record<string, unknown>;

const AXIS_TYPE: Readonly<Record<string, string>> = {
  b: 'batch',
  t: 'time',
  i: 'index',
  c: 'channel',
  x: 'space',
  y: 'space',
  z: 'space',
};
const AXIS_ID: Readonly<Record<string, string>> = { b: 'batch', t: 'time', i: 'index', c: 'channel' };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function file(source: unknown, sha256?: unknown): Obj {
  return sha256 === undefined || sha256 === null ? { source } : { source, sha256 };
}

function convertAxes(
  letters: string,
  shape: unknown,
  kind: 'input' | 'output',
  halo: readonly number[] | undefined,
  sizeRefs: ReadonlyMap<string, Obj>,
): Obj[] {
  const out: Obj[] = [];
  [...letters].forEach((a, i) => {
    const type = AXIS_TYPE[a] ?? 'space';
    if (type === 'batch') {
      out.push({ type: 'batch' });
      return;
    }
    let size: unknown;
    let scale = 1;
    if (Array.isArray(shape)) {
      size = shape[i];
    } else if (isObj(shape) && Array.isArray(shape.step)) {
      const min = (shape.min as number[])[i] as number;
      const step = shape.step[i] as number;
      size = step === 0 ? min : { min, step };
    } else if (isObj(shape)) {
      const ref = String(shape.reference_tensor);
      const s = (shape.scale as number[])[i] as number;
      const o = (shape.offset as number[])[i] as number;
      if (!s) {
        size = Math.trunc(2 * o);
      } else {
        scale = 1 / s;
        const refShape = sizeRefs.get(ref);
        const fromScale = type === 'channel' || type === 'index' ? s * Number(refShape?.[a] ?? 0) : 0;
        size = { tensor_id: ref, axis_id: AXIS_ID[a] ?? a, offset: Math.trunc(fromScale + 2 * o) };
      }
    }
    const h = halo?.[i] ?? 0;
    if (type === 'channel') {
      const n = typeof size === 'number' ? size : Number((size as Obj | undefined)?.offset ?? 1);
      out.push({ type: 'channel', channel_names: Array.from({ length: n }, (_, k) => `channel${k}`) });
    } else if (type === 'index') {
      const s = isObj(size) && 'step' in size && kind === 'output' ? { min: size.min } : size;
      out.push({ type: 'index', size: s });
    } else {
      const axis: Obj = { type, size };
      if (type === 'space') axis.id = a;
      if (scale !== 1) axis.scale = scale;
      if (kind === 'output' && h > 0) axis.halo = h;
      out.push(axis);
    }
  });
  return out;
}

function axesList(axes: unknown): string[] | undefined {
  if (typeof axes === 'string') return [...axes].map((a) => AXIS_ID[a] ?? a);
  return Array.isArray(axes) ? axes.map(String) : undefined;
}

function convertStep(step: Obj): Obj {
  const name = String(step.name);
  const kw: Obj = { ...((step.kwargs as Obj | undefined) ?? {}) };
  const axes = axesList(kw.axes);
  if (name === 'zero_mean_unit_variance') {
    if (kw.mode === 'fixed') {
      const mean = kw.mean;
      const std = kw.std;
      return Array.isArray(mean)
        ? { id: 'fixed_zero_mean_unit_variance', kwargs: { axis: 'channel', mean, std } }
        : { id: 'fixed_zero_mean_unit_variance', kwargs: { mean, std } };
    }
    return {
      id: name,
      kwargs: { ...(axes ? { axes } : {}), ...(kw.eps !== undefined ? { eps: kw.eps } : {}) },
    };
  }
  if (name === 'scale_range') {
    const k: Obj = {};
    if (axes) k.axes = axes;
    for (const key of ['min_percentile', 'max_percentile', 'eps', 'reference_tensor']) {
      if (kw[key] !== undefined && kw[key] !== null) k[key] = kw[key];
    }
    return { id: name, kwargs: k };
  }
  if (name === 'scale_linear') {
    const { gain, offset } = kw;
    if (Array.isArray(gain) || Array.isArray(offset))
      return { id: name, kwargs: { axis: 'channel', gain, offset } };
    return { id: name, kwargs: { gain: gain ?? 1, offset: offset ?? 0 } };
  }
  if (name === 'scale_mean_variance') {
    return {
      id: name,
      kwargs: {
        reference_tensor: kw.reference_tensor,
        ...(axes ? { axes } : {}),
        ...(kw.eps !== undefined ? { eps: kw.eps } : {}),
      },
    };
  }
  if (name === 'sigmoid') return { id: name };
  const { mode: _mode, axes: _axes, ...rest } = kw;
  return { id: name, kwargs: rest };
}

function convertData(t: Obj): Obj {
  const type = t.data_type ?? 'float32';
  const range = Array.isArray(t.data_range)
    ? t.data_range.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null))
    : undefined;
  return range ? { type, range } : { type };
}

function convertWeights(weights: Obj, issues: Issue[]): Obj {
  const out: Obj = {};
  for (const [fmt, entry] of Object.entries(weights)) {
    if (!isObj(entry)) continue;
    const w: Obj = file(entry.source, entry.sha256);
    for (const k of ['authors', 'parent', 'opset_version', 'pytorch_version', 'tensorflow_version']) {
      if (entry[k] !== undefined && entry[k] !== null) w[k] = entry[k];
    }
    if (fmt === 'pytorch_state_dict' && typeof entry.architecture === 'string') {
      const arch = entry.architecture;
      const colon = arch.lastIndexOf(':');
      w.architecture =
        colon > 0 && arch.slice(0, colon).endsWith('.py')
          ? {
              ...file(arch.slice(0, colon), entry.architecture_sha256),
              callable: arch.slice(colon + 1),
              kwargs: entry.kwargs ?? {},
            }
          : {
              import_from: arch.slice(0, arch.lastIndexOf('.')),
              callable: arch.slice(arch.lastIndexOf('.') + 1),
              kwargs: entry.kwargs ?? {},
            };
      if (typeof entry.dependencies === 'string' && entry.dependencies.startsWith('conda:')) {
        w.dependencies = { source: entry.dependencies.slice(6) };
      }
    }
    if ((fmt === 'torchscript' || fmt === 'pytorch_state_dict') && w.pytorch_version === undefined) {
      w.pytorch_version = '1.10';
      issues.push(
        warning(
          'conversion',
          pointer('weights', fmt, 'pytorch_version'),
          `0.4 ${fmt} weights have no pytorch_version; assumed 1.10`,
          'Set pytorch_version.',
        ),
      );
    }
    if (fmt === 'onnx' && w.opset_version === undefined) {
      w.opset_version = 15;
      issues.push(
        warning(
          'conversion',
          pointer('weights', fmt, 'opset_version'),
          '0.4 onnx weights have no opset_version; assumed 15',
          'Set opset_version.',
        ),
      );
    }
    out[fmt] = w;
  }
  return out;
}

/** 0.4.x → 0.5 (format_version set to `targetVersion`); warnings for approximations. */
export function convertV04(src: Obj, targetVersion: string): { converted: Obj; issues: Issue[] } {
  const issues: Issue[] = [];
  const inputs = (src.inputs as Obj[]) ?? [];
  const outputs = (src.outputs as Obj[]) ?? [];
  const testIn = (src.test_inputs as string[]) ?? [];
  const testOut = (src.test_outputs as string[]) ?? [];
  const sampleIn = (src.sample_inputs as string[] | undefined) ?? [];
  const sampleOut = (src.sample_outputs as string[] | undefined) ?? [];
  const sizeRefs = new Map<string, Obj>();
  for (const t of inputs) {
    if (Array.isArray(t.shape)) {
      sizeRefs.set(
        String(t.name),
        Object.fromEntries([...String(t.axes)].map((a, i) => [a, (t.shape as number[])[i]])),
      );
    }
  }

  const conv = (t: Obj, i: number, kind: 'input' | 'output'): Obj => {
    const out: Obj = {
      id: t.name,
      axes: convertAxes(String(t.axes), t.shape, kind, t.halo as number[] | undefined, sizeRefs),
      data: convertData(t),
    };
    if (t.description !== undefined) out.description = t.description;
    const test = (kind === 'input' ? testIn : testOut)[i];
    if (test !== undefined) out.test_tensor = { source: test };
    const sample = (kind === 'input' ? sampleIn : sampleOut)[i];
    if (sample !== undefined) out.sample_tensor = { source: sample };
    const steps = kind === 'input' ? t.preprocessing : t.postprocessing;
    if (Array.isArray(steps))
      out[kind === 'input' ? 'preprocessing' : 'postprocessing'] = steps.map((s) => convertStep(s as Obj));
    return out;
  };

  const converted: Obj = {
    type: 'model',
    format_version: targetVersion,
    name: [...String(src.name)].map((c) => (/[A-Za-z0-9_+\- ()]/.test(c) ? c : ' ')).join(''),
    inputs: inputs.map((t, i) => conv(t, i, 'input')),
    outputs: outputs.map((t, i) => conv(t, i, 'output')),
    weights: convertWeights((src.weights as Obj) ?? {}, issues),
  };
  for (const k of [
    'description',
    'authors',
    'maintainers',
    'packaged_by',
    'cite',
    'license',
    'documentation',
    'covers',
    'tags',
    'links',
    'git_repo',
    'icon',
    'id',
    'id_emoji',
    'timestamp',
    'uploader',
    'parent',
    'run_mode',
    'training_data',
    'config',
    'version',
  ]) {
    if (src[k] !== undefined && src[k] !== null) converted[k] = src[k];
  }
  if (src.version === undefined && typeof (src as Obj).version_number === 'string')
    converted.version = src.version_number;
  if (isObj(src.attachments) && Array.isArray(src.attachments.files)) {
    converted.attachments = src.attachments.files.map((f) => ({ source: f }));
  }
  if (isObj(src.parent) && src.parent.id === undefined && typeof src.parent.uri === 'string')
    delete converted.parent;
  const nickname =
    isObj(src.config) && isObj(src.config.bioimageio) ? src.config.bioimageio.nickname : undefined;
  if (converted.id === undefined && typeof nickname === 'string') converted.id = nickname;
  return { converted, issues };
}
