/** Bundle → what serving needs: tiling geometry, preprocessing, and the facts/metadata the API shows. */
import type { Bundle } from '../exporters/index.js';
import type { LinearMap, ModelGeometry } from '../runtime/index.js';

/** The bundle facts serving needs (a Bundle has them; a zip's rdf.yaml gives them too, see cli predict). */
export interface ServedModel {
  readonly dir: string;
  readonly input: Pick<
    Bundle['input'],
    'name' | 'channel_names' | 'voxel_size_nm' | 'valid_size' | 'preprocessing'
  >;
  readonly output: Pick<Bundle['output'], 'name' | 'kind' | 'channel_names' | 'halo'> & {
    /** bundle.yaml's output semantics (channel_activations, ...), where the source records them. */
    readonly semantics?: Record<string, unknown>;
  };
  readonly weights: { readonly onnx: { readonly file: string } };
}

export interface ModelFacts {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly task: string;
  readonly variant: string;
  readonly trained: boolean;
  readonly license: string;
  readonly input: {
    readonly name: string;
    readonly channels: readonly string[];
    readonly voxelSizeNm: readonly number[];
    readonly validSize: { readonly min: readonly number[]; readonly step: readonly number[] };
    readonly preprocessing: { readonly kind: string; readonly gain: number; readonly offset: number };
  };
  readonly output: {
    readonly name: string;
    readonly kind: 'dense' | 'classes';
    readonly channels: readonly string[];
    readonly halo: readonly number[] | null;
  };
}

export function modelFacts(id: string, b: Bundle): ModelFacts {
  return {
    id,
    name: b.name,
    description: b.description,
    task: b.task,
    variant: b.variant,
    trained: b.trained,
    license: b.license,
    input: {
      name: b.input.name,
      channels: [...b.input.channel_names],
      voxelSizeNm: [...b.input.voxel_size_nm],
      validSize: { min: [...b.input.valid_size.min], step: [...b.input.valid_size.step] },
      preprocessing: { ...b.input.preprocessing },
    },
    output: {
      name: b.output.name,
      kind: b.output.kind,
      channels: [...b.output.channel_names],
      halo: b.output.halo ? [...b.output.halo] : null,
    },
  };
}

/** Tiling geometry of a dense model (classes models are not tiled). */
export function geometryOf(b: ServedModel): ModelGeometry {
  return {
    minInput: [...b.input.valid_size.min],
    step: b.input.valid_size.step.map((s) => Math.max(1, s)),
    halo: [...(b.output.halo ?? [0, 0, 0])],
    inputChannels: b.input.channel_names.length,
    outputChannels: b.output.channel_names.length,
  };
}

export function preprocessingOf(b: ServedModel): LinearMap {
  return { gain: b.input.preprocessing.gain, offset: b.input.preprocessing.offset };
}

/** "min [44,44,44] + k·[4,4,4]" (or the one fixed size), for hints. */
export function validSizesText(b: ServedModel): string {
  const { min, step } = b.input.valid_size;
  return step.every((s) => s === 0) ? `exactly [${min}]` : `[${min}] + k·[${step}] (k = 0, 1, 2, …)`;
}

/** KServe v2 model metadata: the batch and spatial dims are variable (-1). */
export function v2Metadata(id: string, b: Bundle) {
  const fixed = b.input.valid_size.step.every((s) => s === 0);
  const spatialIn = fixed ? [...b.input.valid_size.min] : [-1, -1, -1];
  const cIn = b.input.channel_names.length;
  const cOut = b.output.channel_names.length;
  return {
    name: id,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: b.input.name, datatype: 'FP32', shape: [-1, cIn, ...spatialIn] }],
    outputs: [
      {
        name: b.output.name,
        datatype: 'FP32',
        shape: b.output.kind === 'classes' ? [-1, cOut] : [-1, cOut, -1, -1, -1],
      },
    ],
  };
}
