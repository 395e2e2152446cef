/** Weights entries, keyed by the weights-format name. */

import type { FileDescr } from './tensors.js';

export const WEIGHTS_FORMATS = [
  'keras_hdf5',
  'keras_v3',
  'onnx',
  'pytorch_state_dict',
  'tensorflow_js',
  'tensorflow_saved_model_bundle',
  'torchscript',
] as const;
export type WeightsFormat = (typeof WEIGHTS_FORMATS)[number];

interface WeightsEntryBase extends FileDescr {
  readonly authors?: readonly unknown[] | null;
  readonly parent?: WeightsFormat | null;
  readonly comment?: string;
}

export interface OnnxWeights extends WeightsEntryBase {
  readonly opset_version: number;
  /** 0.5.6+: not for descriptions we write. */
  readonly external_data?: FileDescr | null;
}

export interface TorchscriptWeights extends WeightsEntryBase {
  readonly pytorch_version: string;
}

export type Architecture =
  | (FileDescr & { readonly callable: string; readonly kwargs?: Record<string, unknown> })
  | { readonly import_from: string; readonly callable: string; readonly kwargs?: Record<string, unknown> };

export interface PytorchStateDictWeights extends WeightsEntryBase {
  readonly architecture: Architecture;
  readonly pytorch_version: string;
  readonly dependencies?: FileDescr | null;
}

export interface TensorflowWeights extends WeightsEntryBase {
  readonly tensorflow_version: string;
  readonly dependencies?: FileDescr | null;
}

export interface KerasV3Weights extends WeightsEntryBase {
  readonly keras_version: string;
  readonly backend?: unknown;
}

export interface Weights {
  readonly onnx?: OnnxWeights | null;
  readonly torchscript?: TorchscriptWeights | null;
  readonly pytorch_state_dict?: PytorchStateDictWeights | null;
  readonly tensorflow_saved_model_bundle?: TensorflowWeights | null;
  readonly tensorflow_js?: TensorflowWeights | null;
  readonly keras_hdf5?: TensorflowWeights | null;
  readonly keras_v3?: KerasV3Weights | null;
}

export type AnyWeightsEntry = NonNullable<Weights[WeightsFormat]>;

/** The formats present (non-null), in the spec's order. */
export function presentWeights(weights: Weights): [WeightsFormat, AnyWeightsEntry][] {
  const out: [WeightsFormat, AnyWeightsEntry][] = [];
  for (const f of WEIGHTS_FORMATS) {
    const entry = weights[f];
    if (entry !== undefined && entry !== null) out.push([f, entry]);
  }
  return out;
}
