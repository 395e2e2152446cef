import { type Issue, issue, pointer } from '../errors.js';
import type { ModelDescr } from '../model.js';
import type { TensorData } from '../tensors.js';
import { tensorsOf } from './located.js';

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

export function checkData(d: ModelDescr, out: Issue[]): void {
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
