/**
 * Bundle (+ the hashes of the files going into the zip) → bioimage.io model RDF 0.5.4.
 * Pure: the same bundle and hashes give the same RDF, so zips are reproducible.
 */
import type { Bundle } from './bundle-read.js';
import { ExportError } from './errors.js';
import { type RdfEntries, STANDARD_ENTRIES } from './package-plan.js';
import type { Profile } from './profiles.js';
import type { Axis, ModelRdf, OutputTensor, Size } from './rdf-types.js';
import type { Reproduction } from './reproduce.js';

const SPACE = ['z', 'y', 'x'] as const;

const TASK_TAGS: Record<Bundle['task'], string[]> = {
  lsd: [
    'brain',
    'cell-membrane',
    'lsd',
    'affinity-prediction',
    'local-shape-descriptors',
    'neuron-segmentation',
    'instance-segmentation',
    'unet',
  ],
  synful: ['brain', 'synful', 'synapse-detection', 'synaptic-partners', 'object-detection', 'unet'],
  synister: ['brain', 'synister', 'neurotransmitter-classification', 'image-classification', 'vgg'],
  micron: ['brain', 'micron', 'microtubules', 'microtubule-segmentation', 'semantic-segmentation', 'unet'],
};

export interface RdfInputs {
  readonly bundle: Bundle;
  readonly hashes: Readonly<Record<string, string>>; // zip entry name → sha256 (all but rdf.yaml)
  readonly reproduction: Reproduction;
  readonly profiles: readonly Profile[];
  /** Zip entries of the referenced weights and test output (default: model.onnx, ...). */
  readonly entries?: RdfEntries;
  /** Zip entry of the valid-output ONNX shipped beside padded weights, for emzoo predict/server. */
  readonly validOnnx?: string;
}

/** bioimage.io names allow only [A-Za-z0-9_+\- ()], 5–128 chars. */
export function rdfName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9_+\- ()]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 128);
  if (cleaned.length < 5) {
    throw new ExportError('BundleInvalid', `bundle name ${JSON.stringify(name)} gives a too short RDF name`, {
      hint: 'give the bundle a name of at least 5 letters, digits or spaces',
    });
  }
  return cleaned;
}

function hash(h: Readonly<Record<string, string>>, name: string): { source: string; sha256: string } {
  const sha256 = h[name];
  if (sha256 === undefined) throw new Error(`internal: no hash computed for ${name}`);
  return { source: name, sha256 };
}

function inputAxes(b: Bundle, testShape: readonly number[]): Axis[] {
  const axes: Axis[] = [{ type: 'batch' }, { type: 'channel', channel_names: [...b.input.channel_names] }];
  SPACE.forEach((id, i) => {
    const min = b.input.valid_size.min[i] as number;
    const step = b.input.valid_size.step[i] as number;
    const actual = testShape[2 + i] as number;
    const ok = step === 0 ? actual === min : actual >= min && (actual - min) % step === 0;
    if (!ok) {
      throw new ExportError(
        'BundleInvalid',
        `${b.id}: test_input.npy size ${actual} along ${id} is not min + k·step (min ${min}, step ${step})`,
        { hint: 're-export with a test input whose sizes are valid network input sizes' },
      );
    }
    const size: Size = step === 0 ? min : { min, step };
    axes.push({ type: 'space', id, size, unit: 'nanometer', scale: b.input.voxel_size_nm[i] as number });
  });
  return axes;
}

/**
 * Dense outputs reference the input size. A network that crops its own border (valid convolutions:
 * output = input − 2·halo) is declared with size offset −2·halo, as the spec asks for outputs that are
 * already cropped; a network whose output keeps the input size declares `halo` for consumers to crop.
 */
function outputAxes(b: Bundle, inShape: readonly number[], outShape: readonly number[]): Axis[] {
  const channel: Axis = { type: 'channel', channel_names: [...b.output.channel_names] };
  if (b.output.kind === 'classes') return [{ type: 'batch' }, channel];
  const axes: Axis[] = [{ type: 'batch' }, channel];
  SPACE.forEach((id, i) => {
    const halo = (b.output.halo ?? [0, 0, 0])[i] as number;
    const inSize = inShape[2 + i] as number;
    const outSize = outShape[2 + i] as number;
    const base = {
      type: 'space' as const,
      id,
      unit: 'nanometer' as const,
      scale: b.input.voxel_size_nm[i] as number,
    };
    if (outSize === inSize - 2 * halo && halo > 0) {
      axes.push({ ...base, size: { tensor_id: b.input.name, axis_id: id, offset: -2 * halo } });
    } else if (outSize === inSize) {
      axes.push({ ...base, size: { tensor_id: b.input.name, axis_id: id }, ...(halo > 0 ? { halo } : {}) });
    } else {
      throw new ExportError(
        'BundleInvalid',
        `${b.id}: output size ${outSize} along ${id} is neither the input size ${inSize} nor input − 2·halo (halo ${halo})`,
        { hint: 'bundle.yaml output.halo must be the per-side crop of the network' },
      );
    }
  });
  return axes;
}

export function buildRdf({
  bundle: b,
  hashes,
  reproduction: r,
  profiles,
  entries: e = STANDARD_ENTRIES,
  validOnnx,
}: RdfInputs): ModelRdf {
  const fiji = profiles.includes('fiji');
  const padded = b.output.kind === 'dense' && r.outputShape.slice(2).join() === r.inputShape.slice(2).join();
  const out: OutputTensor = {
    id: b.output.name,
    description:
      `${b.output.kind === 'classes' ? 'class probabilities' : 'dense prediction'}: ${b.output.channel_names.join(', ')}`.slice(
        0,
        128,
      ),
    axes: outputAxes(b, r.inputShape, r.outputShape),
    data: { type: 'float32' },
    test_tensor: hash(hashes, e.testOutput),
    ...(fiji ? { sample_tensor: hash(hashes, 'sample_output.tif') } : {}),
  };
  const probabilities = r.outputRange[0] >= 0 && r.outputRange[1] <= 1;
  if (probabilities) out.data = { type: 'float32', range: [0, 1] };
  const maintainers = b.authors.filter((p) => p.github_user !== undefined);
  const semantics = b.output.semantics;
  const config: Record<string, unknown> = {
    bioimageio: {
      reproducibility_tolerance: [
        {
          absolute_tolerance: Math.min(
            r.atol,
            0.01 * Math.max(Math.abs(r.outputRange[0]), Math.abs(r.outputRange[1])),
          ),
          relative_tolerance: Math.max(r.rtol, 1e-3),
          mismatched_elements_per_million: 0,
        },
      ],
    },
    emzoo: {
      bundle_id: b.id,
      task: b.task,
      variant: b.variant,
      voxel_size_nm: {
        z: b.input.voxel_size_nm[0],
        y: b.input.voxel_size_nm[1],
        x: b.input.voxel_size_nm[2],
      },
      output_kind: b.output.kind,
      // padded: output at the input's size, the outer `halo` voxels zero-filled (for tiling consumers)
      ...(b.output.kind === 'dense' ? { output_form: padded ? 'padded' : 'valid' } : {}),
      ...(validOnnx !== undefined
        ? { valid_output_onnx: { ...hash(hashes, validOnnx), output: 'input - 2*halo per space axis' } }
        : {}),
      channel_names: [...b.output.channel_names],
      ...(b.output.halo !== undefined
        ? { halo: { z: b.output.halo[0], y: b.output.halo[1], x: b.output.halo[2] } }
        : {}),
      semantics,
      trained: b.trained,
      round_trip_errors: {
        onnx_vs_pytorch: b.roundtrip.onnx,
        torchscript_vs_pytorch: b.roundtrip.torchscript,
        state_dict_vs_pytorch: b.roundtrip.state_dict,
        onnxruntime_node_vs_test_output_max_abs: r.maxAbsError,
      },
      parameter_count: b.architecture.parameter_count,
      preset: b.preset,
      software: b.software,
      reproduce_atol: r.atol,
      reproduce_rtol: r.rtol,
      profiles: [...profiles],
    },
  };
  const offsets = semantics.affinity_offsets;
  // torch-em's mutex-watershed convention: one offset per output channel, so only for affinity-only outputs
  if (Array.isArray(offsets) && offsets.length === b.output.channel_names.length) config.mws = { offsets };
  if (fiji) config.deepimagej = { allow_tiling: b.output.kind === 'dense', pyramidal_model: false };

  return {
    type: 'model',
    format_version: '0.5.4',
    name: rdfName(b.name),
    description: b.description.slice(0, 1024),
    authors: b.authors.map((p) => ({ ...p })),
    maintainers: maintainers.map((p) => ({ ...p })),
    cite: b.citations.map((c) =>
      c.doi !== undefined ? { text: c.text, doi: c.doi } : { text: c.text, url: c.url ?? '' },
    ),
    license: b.license,
    documentation: 'README.md',
    covers: ['cover.png'],
    tags: [
      'electron-microscopy',
      '3d',
      'connectomics',
      ...TASK_TAGS[b.task],
      'pytorch',
      'onnx',
      'ilastik',
      'deepimagej',
    ],
    timestamp: b.created,
    inputs: [
      {
        id: b.input.name,
        description: `raw EM intensities (uint8 range 0-255), ${b.input.voxel_size_nm.join('x')} nm voxels (z, y, x)`,
        axes: inputAxes(b, r.inputShape),
        data: { type: 'float32' },
        test_tensor: hash(hashes, 'test_input.npy'),
        ...(fiji ? { sample_tensor: hash(hashes, 'sample_input.tif') } : {}),
        preprocessing: [
          {
            id: 'scale_linear',
            kwargs: { gain: b.input.preprocessing.gain, offset: b.input.preprocessing.offset },
          },
        ],
      },
    ],
    outputs: [out],
    weights: {
      pytorch_state_dict: {
        ...hash(hashes, 'state_dict.pt'),
        architecture: {
          ...hash(hashes, 'architecture.py'),
          callable: b.architecture.callable,
          kwargs: b.architecture.kwargs,
        },
        pytorch_version: b.weights.state_dict.torch_version,
      },
      torchscript: {
        ...hash(hashes, e.torchscript),
        pytorch_version: b.weights.torchscript.torch_version,
        parent: 'pytorch_state_dict',
      },
      onnx: {
        ...hash(hashes, e.onnx),
        opset_version: b.weights.onnx.opset,
        parent: 'pytorch_state_dict',
      },
    },
    // a typed file reference (config is free-form and not followed), so `bioimageio package` and
    // the spec's file checks keep and hash the valid-output graph emzoo predict/server read
    ...(validOnnx !== undefined ? { attachments: [hash(hashes, validOnnx)] } : {}),
    config,
  };
}
