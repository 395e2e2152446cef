/**
 * Realistic bioimage.io 0.5.4 model packages written to disk (tiny .npy test tensors, tiny weight
 * files, README) for the validator tests. `AUTO` in a sha256 field is replaced by the real hash
 * of the file's final bytes when the fixture is written.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { writePng, writeTiff } from './image-write.js';
import { seededValues, type WritableDtype, writeNpy } from './npy-write.js';
import { onnxModelBytes } from './onnx-bytes.js';

export const AUTO = '<auto>';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely by defect functions
export type Json = any;

export interface Fixture {
  rdf: Json;
  files: Map<string, Uint8Array>;
}

export interface Variant {
  dims: 2 | 3;
  inChannels: number;
  outChannels: number;
  sizes: 'param' | 'fixed';
  halo: number;
  weights: readonly ('onnx' | 'torchscript' | 'pytorch_state_dict')[];
  pre: 'zero_mean_unit_variance' | 'scale_range' | 'fixed_zero_mean_unit_variance' | 'scale_linear' | 'none';
  post: 'sigmoid' | 'none' | 'binarize' | 'clip';
  unit: boolean;
  fair: boolean;
  inDtype: 'float32' | 'uint8';
  /** Sample images: ImageJ TIFFs, a grey PNG input (for one channel; none otherwise), or none. */
  sample: 'tif' | 'png' | 'none';
  seed: number;
}

export const BASE_VARIANT: Variant = {
  dims: 3,
  inChannels: 1,
  outChannels: 3,
  sizes: 'param',
  halo: 4,
  weights: ['onnx', 'torchscript'],
  pre: 'zero_mean_unit_variance',
  post: 'sigmoid',
  unit: true,
  fair: true,
  inDtype: 'float32',
  sample: 'tif',
  seed: 1,
};

const enc = new TextEncoder();

export function buildFixture(v: Variant): Fixture {
  const files = new Map<string, Uint8Array>();
  const spaceIds = v.dims === 3 ? ['z', 'y', 'x'] : ['y', 'x'];
  const min = { z: 8, y: 16, x: 16 } as Record<string, number>;
  const step = { z: 4, y: 8, x: 8 } as Record<string, number>;
  const actual = { z: 12, y: 24, x: 16 } as Record<string, number>;
  const scale = { z: 40, y: 8, x: 8 } as Record<string, number>;
  const unitOf = (id: string) => (v.unit ? { unit: 'nanometer', scale: scale[id] } : {});

  const inAxes: Json[] = [
    { type: 'batch' },
    { type: 'channel', channel_names: Array.from({ length: v.inChannels }, (_, i) => `raw${i}`) },
    ...spaceIds.map((id) => ({
      type: 'space',
      id,
      size: v.sizes === 'param' ? { min: min[id], step: step[id] } : actual[id],
      ...unitOf(id),
    })),
  ];
  const outAxes: Json[] = [
    { type: 'batch' },
    { type: 'channel', channel_names: Array.from({ length: v.outChannels }, (_, i) => `class${i}`) },
    ...spaceIds.map((id) => ({
      type: 'space',
      id,
      size: { tensor_id: 'raw', axis_id: id },
      ...(v.halo > 0 ? { halo: id === 'z' ? Math.min(v.halo, 2) : v.halo } : {}),
      ...unitOf(id),
    })),
  ];
  const spatial = spaceIds.map((id) => actual[id] as number);
  const inShape = [1, v.inChannels, ...spatial];
  const outShape = [1, v.outChannels, ...spatial];
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const inValues =
    v.inDtype === 'uint8'
      ? seededValues(n(inShape), v.seed, 0, 255).map(Math.floor)
      : seededValues(n(inShape), v.seed, -3, 3);
  files.set('test_input.npy', writeNpy(inValues, inShape, v.inDtype as WritableDtype));
  files.set('test_output.npy', writeNpy(seededValues(n(outShape), v.seed + 7, 0, 1), outShape, 'float32'));

  // Sample images as ImageJ hyperstacks (channel fastest, then z), or a grey PNG for 2D one-channel inputs.
  const sampleTiff = (channels: number) => {
    const z = v.dims === 3 ? (actual.z as number) : 1;
    const pages = channels * z;
    return writeTiff(
      pages,
      actual.y as number,
      actual.x as number,
      seededValues(pages * n(spatial.slice(-2)), v.seed + 3, 0, 1),
      {
        imagej: { ...(channels > 1 ? { channels } : {}), ...(z > 1 ? { slices: z } : {}) },
      },
    );
  };
  const samples: Json = { in: undefined, out: undefined };
  if (v.sample === 'tif') {
    files.set('sample_input.tif', sampleTiff(v.inChannels));
    files.set('sample_output.tif', sampleTiff(v.outChannels));
    samples.in = { source: 'sample_input.tif', sha256: AUTO };
    samples.out = { source: 'sample_output.tif', sha256: AUTO };
  } else if (v.sample === 'png' && v.inChannels === 1) {
    files.set('sample_input.png', writePng(actual.y as number, actual.x as number, 1));
    samples.in = { source: 'sample_input.png', sha256: AUTO };
  }

  const pre: Json[] = [];
  if (v.pre === 'zero_mean_unit_variance')
    pre.push({ id: 'zero_mean_unit_variance', kwargs: { axes: spaceIds } });
  if (v.pre === 'scale_range')
    pre.push({ id: 'scale_range', kwargs: { axes: spaceIds, min_percentile: 1, max_percentile: 99.5 } });
  if (v.pre === 'fixed_zero_mean_unit_variance')
    pre.push({ id: 'fixed_zero_mean_unit_variance', kwargs: { mean: 127.5, std: 40.2 } });
  if (v.pre === 'scale_linear') pre.push({ id: 'scale_linear', kwargs: { gain: 0.0039, offset: 0 } });
  if (v.inDtype === 'uint8') pre.unshift({ id: 'ensure_dtype', kwargs: { dtype: 'float32' } });
  const post: Json[] = [];
  if (v.post === 'sigmoid') post.push({ id: 'sigmoid' });
  if (v.post === 'binarize') post.push({ id: 'binarize', kwargs: { threshold: 0.5 } });
  if (v.post === 'clip') post.push({ id: 'clip', kwargs: { min: 0, max: 1 } });

  const weights: Json = {};
  for (const f of v.weights) {
    if (f === 'onnx') {
      files.set('model.onnx', onnxModelBytes([{ domain: '', version: 17 }]));
      weights.onnx = { source: 'model.onnx', sha256: AUTO, opset_version: 17 };
    }
    if (f === 'torchscript') {
      files.set('model.torchscript.pt', seededBytes(256, v.seed + 1));
      weights.torchscript = { source: 'model.torchscript.pt', sha256: AUTO, pytorch_version: '2.13.0' };
    }
    if (f === 'pytorch_state_dict') {
      files.set('state_dict.pt', seededBytes(300, v.seed + 2));
      files.set(
        'architecture.py',
        enc.encode(
          'import torch\n\n\nclass UNet(torch.nn.Module):\n    def __init__(self, depth: int = 2):\n        super().__init__()\n        self.init_kwargs = {"depth": depth}\n',
        ),
      );
      weights.pytorch_state_dict = {
        source: 'state_dict.pt',
        sha256: AUTO,
        pytorch_version: '2.13.0',
        architecture: { source: 'architecture.py', sha256: AUTO, callable: 'UNet', kwargs: { depth: 2 } },
      };
    }
  }
  const [first, ...rest] = v.weights;
  for (const f of rest) weights[f].parent = first;

  const rdf: Json = {
    type: 'model',
    format_version: '0.5.4',
    name: `EM membrane UNet ${v.dims}D`,
    inputs: [
      {
        id: 'raw',
        description: 'raw EM intensities',
        axes: inAxes,
        data: { type: v.inDtype },
        test_tensor: { source: 'test_input.npy', sha256: AUTO },
        ...(samples.in ? { sample_tensor: samples.in } : {}),
        ...(pre.length ? { preprocessing: pre } : {}),
      },
    ],
    outputs: [
      {
        id: 'prediction',
        axes: outAxes,
        data: { type: 'float32', range: [0, 1] },
        test_tensor: { source: 'test_output.npy', sha256: AUTO },
        ...(samples.out ? { sample_tensor: samples.out } : {}),
        ...(post.length ? { postprocessing: post } : {}),
      },
    ],
    weights,
  };
  if (v.fair) {
    files.set(
      'README.md',
      enc.encode(
        '# EM membrane UNet\n\nPredicts membranes.\n\n## Validation\n\nChecked on held-out CREMI crops.\n',
      ),
    );
    files.set('cover.png', seededBytes(64, 99));
    Object.assign(rdf, {
      description: 'Membrane probability maps for serial-section EM.',
      authors: [{ name: 'Jane Doe', affiliation: 'Lab', github_user: 'fynnbe' }],
      cite: [{ text: 'Funke et al. 2018', doi: '10.1109/TPAMI.2018.2835450' }],
      license: 'MIT',
      documentation: 'README.md',
      covers: ['cover.png'],
      tags: [
        'electron-microscopy',
        `${v.dims}d`,
        'cell-membrane',
        'pytorch',
        'ilastik',
        'unet',
        'semantic-segmentation',
      ],
      timestamp: '2026-01-31T12:00:00',
      version: '0.1.0',
    });
  }
  return { rdf, files };
}

function seededBytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from(seededValues(n, seed, 0, 256), Math.floor);
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Replace AUTO hashes by the files' real hashes (missing files keep a hash of nothing). */
export function resolveHashes(fx: Fixture): Json {
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [k, val] of Object.entries(node)) out[k] = walk(val);
    if (out.sha256 === AUTO) {
      const bytes = fx.files.get(String(out.source));
      out.sha256 = sha256(bytes ?? new Uint8Array());
    }
    return out;
  };
  return walk(fx.rdf);
}

export function rdfYaml(fx: Fixture): string {
  return dump(resolveHashes(fx), { noRefs: true, lineWidth: -1 });
}

export function writeFixture(dir: string, fx: Fixture, rdfName = 'rdf.yaml'): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of fx.files) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, rdfName), rdfYaml(fx));
}
