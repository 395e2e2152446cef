/**
 * One inference on an in-memory tensor of any size: the bundle's preprocessing applied
 * server-side, dense models tiled with runtime's predictArray (same blocks and padding as volume
 * jobs), class models run whole. Output modes for dense models:
 *   valid              output = input − 2·halo per axis, as the model itself defines it (default)
 *   zero|reflect|edge  output the input's size; the border context is padded that way
 * Output datatypes: float32 (default) or uint8 = value·255 rounded and clamped, as `predict --uint8`
 * and the original pipelines store affinities and masks; a quarter of the bytes to send.
 */

import { unboundedChannels } from '../exporters/index.js';
import {
  blockBytes,
  cropConvert,
  isValidInput,
  type NdArray,
  ndarray,
  predictArray,
} from '../runtime/index.js';
import type { CatalogEntry } from './catalog.js';
import { ServeError } from './errors.js';
import { geometryOf, preprocessingOf, validSizesText } from './model-facts.js';

export const OUTPUT_MODES = ['valid', 'zero', 'reflect', 'edge'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

export function parseOutputMode(v: unknown, where: string): OutputMode {
  if (v === undefined) return 'valid';
  if (typeof v === 'string' && (OUTPUT_MODES as readonly string[]).includes(v)) return v as OutputMode;
  throw new ServeError('InvalidArgument', `${where} ${JSON.stringify(v)} is not an output mode`, {
    hint: `use one of ${OUTPUT_MODES.join(', ')} (valid: output shrinks by the halo; the others keep the input size)`,
  });
}

export type OutputDtype = 'float32' | 'uint8' | 'float16';
const OUTPUT_DATATYPES = { FP32: 'float32', FP16: 'float16', UINT8: 'uint8' } as const satisfies Record<
  string,
  OutputDtype
>;

/**
 * Request parameter `output_datatype` → the answer's dtype (dense models; class models answer
 * FP32). FP16: half the bytes, rounded to the nearest half float (3 significant digits). UINT8:
 * a quarter, only where every channel lies in [0, 1] (sigmoid, softmax, clip01 activations):
 * value·255 would clamp an unbounded channel.
 */
export function parseOutputDatatype(v: unknown, where: string, entry: CatalogEntry): OutputDtype {
  if (v === undefined || v === 'FP32') return 'float32';
  if (v !== 'UINT8' && v !== 'FP16') {
    throw new ServeError('InvalidArgument', `${where} ${JSON.stringify(v)} is not an output datatype`, {
      hint: `use one of ${Object.keys(OUTPUT_DATATYPES).join(', ')} (FP16 = nearest half float; UINT8 = value·255, rounded and clamped)`,
    });
  }
  const out = entry.bundle.output;
  if (out.kind === 'classes') {
    throw new ServeError('InvalidArgument', `model '${entry.id}' answers class probabilities, not an image`, {
      hint: `leave ${where} out (FP32) for class models`,
    });
  }
  if (v === 'FP16') return 'float16';
  assertUint8Fits(entry.id, out, `leave ${where} out (FP32), or ask for FP16`);
  return 'uint8';
}

/** 400 when some output channel is not in [0, 1] (where bundle.yaml records the activations). */
export function assertUint8Fits(
  id: string,
  output: { readonly channel_names: readonly string[]; readonly semantics?: Record<string, unknown> },
  hint: string,
): void {
  const unbounded = unboundedChannels(output) ?? [];
  if (unbounded.length > 0) {
    throw new ServeError(
      'InvalidArgument',
      `model '${id}' has channels that are not in [0, 1] (${unbounded.join(', ')}): uint8 (value·255) would clamp them`,
      { hint },
    );
  }
}

export interface InferOptions {
  readonly mode: OutputMode;
  /** The answer's dtype; default float32. Parse it with parseOutputDatatype. */
  readonly outputDtype?: OutputDtype;
  /** Apply the bundle's preprocessing (raw intensities in); false: the tensor is already in network space. */
  readonly preprocess: boolean;
  readonly memoryBudgetBytes: number;
  readonly signal?: AbortSignal;
  readonly onBlock?: () => void;
}

const invalid = (message: string, hint: string) => new ServeError('InvalidTensor', message, { hint });

/** Runs `entry`'s model on a batch [b, c, z, y, x]; returns [b, C, ...] (dense) or [b, C] (classes). */
export async function inferBatch(
  entry: CatalogEntry,
  backend: import('../runtime/index.js').InferenceBackend,
  x: NdArray,
  o: InferOptions,
): Promise<NdArray<'float32' | 'uint8' | 'float16'>> {
  const b = entry.bundle;
  const dtype = o.outputDtype ?? 'float32';
  const g = geometryOf(b);
  const shapeHint = `send [batch, ${g.inputChannels}, z, y, x] with z, y, x = ${validSizesText(b)}`;
  if (x.shape.length !== 5 || x.shape[1] !== g.inputChannels) {
    throw invalid(
      `input shape [${x.shape}] is not [batch, ${g.inputChannels}, z, y, x] for model '${entry.id}'`,
      shapeHint,
    );
  }
  const [batch, , ...spatial] = x.shape as number[];
  if ((batch as number) < 1 || (batch as number) > 64)
    throw invalid(`batch ${batch} is outside 1..64`, 'split the request into batches of at most 64');
  const norm = o.preprocess ? preprocessingOf(b) : { gain: 1, offset: 0 };
  const itemSize = spatial.reduce((a, v) => a * v, g.inputChannels);

  if (b.output.kind === 'classes') {
    const ok = spatial.every((s, i) => {
      const rest = s - (g.minInput[i] as number);
      const step = b.input.valid_size.step[i] as number;
      return rest >= 0 && (step === 0 ? rest === 0 : rest % step === 0);
    });
    if (!ok) {
      throw invalid(
        `spatial size [${spatial}] is not valid for class model '${entry.id}' (it is not tiled)`,
        shapeHint,
      );
    }
    const feed = new Float32Array(x.data.length);
    const src = x.data as ArrayLike<number>;
    for (let i = 0; i < feed.length; i++) feed[i] = (src[i] as number) * norm.gain + norm.offset;
    // One input and one output per bundle; the ONNX names are the backend's (they may differ from bundle.yaml's).
    const out = await backend.run(
      { [backend.inputs[0]?.name as string]: { dtype: 'float32', shape: x.shape, data: feed } },
      { signal: o.signal, transfer: true },
    );
    o.onBlock?.();
    return out[backend.outputs[0]?.name as string] as NdArray<'float32'>;
  }

  const halo = g.halo;
  const tooSmall = spatial.some((s, i) => (o.mode === 'valid' ? s < (g.minInput[i] as number) : s < 1));
  if (tooSmall) {
    throw invalid(
      `spatial size [${spatial}] is below the model's minimum input [${g.minInput}] (halo [${halo}])`,
      `${shapeHint}; any larger size is tiled server-side`,
    );
  }
  const outSpatial = o.mode === 'valid' ? spatial.map((v, i) => v - 2 * (halo[i] as number)) : spatial;
  const itemOut = outSpatial.reduce((a, v) => a * v, g.outputChannels);

  // A valid model input in valid mode whose batch fits the budget: that is exactly one session run,
  // whose output is the answer as it is (no tiling, no crop, no copy).
  const oneRun =
    o.mode === 'valid' &&
    spatial.every((v, i) => isValidInput(g, i, v)) &&
    (batch as number) * blockBytes(g, spatial) <= o.memoryBudgetBytes;
  if (oneRun) {
    const { gain, offset } = norm;
    // x is this request's own copy (parsed at the edge), so it can be moved to the worker as it is.
    const identity = x.dtype === 'float32' && gain === 1 && offset === 0;
    const feed = identity ? (x as NdArray<'float32'>) : ndarray('float32', x.shape);
    if (!identity) {
      const src = x.data as ArrayLike<number>;
      const f = feed.data;
      for (let i = 0; i < f.length; i++) f[i] = (src[i] as number) * gain + offset;
    }
    // uint8/float16: converted in the worker, so only a quarter/half of the bytes comes back.
    const shaping =
      dtype !== 'float32' ? { start: outSpatial.map(() => 0), shape: outSpatial, dtype } : undefined;
    const out = await backend.run(
      { [backend.inputs[0]?.name as string]: feed },
      { signal: o.signal, transfer: true, ...(shaping ? { output: shaping } : {}) },
    );
    o.onBlock?.();
    return out[backend.outputs[0]?.name as string] as NdArray<'float32' | 'uint8' | 'float16'>;
  }

  // Otherwise tiled, each item written straight into its slice of the batch output.
  const out = ndarray('float32', [batch as number, g.outputChannels, ...outSpatial]);
  for (let k = 0; k < (batch as number); k++) {
    const item: NdArray = {
      dtype: x.dtype,
      shape: [g.inputChannels, ...spatial],
      data: x.data.subarray(k * itemSize, (k + 1) * itemSize) as NdArray['data'],
    };
    await predictArray(item, {
      backend,
      geometry: g,
      memoryBudgetBytes: o.memoryBudgetBytes,
      padding: o.mode === 'valid' ? 'zero' : o.mode,
      // valid: compute only input − 2·halo (padding the whole input and cropping computed ~3–8× more).
      extent: o.mode === 'valid' ? 'valid' : 'same',
      normalization: { kind: 'scale_linear', ...norm },
      into: out.data.subarray(k * itemOut, (k + 1) * itemOut),
      signal: o.signal,
      onProgress: () => o.onBlock?.(),
    });
  }
  return dtype === 'float32'
    ? out
    : cropConvert(out, { start: outSpatial.map(() => 0), shape: outSpatial, dtype });
}
