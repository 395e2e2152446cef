/**
 * Realistic 0.4.x model packages (the shape of zoo models such as unet2d_nuclei_broad 0.4.9:
 * axes strings, explicit/parameterized/implicit shapes, top-level test_inputs), with tiny files.
 */

import { AUTO, type Fixture, type Json } from './model-fixture.js';
import { seededValues, writeNpy } from './npy-write.js';
import { onnxModelBytes } from './onnx-bytes.js';

export interface VariantV04 {
  shape: 'explicit' | 'parameterized';
  channels: number;
  halo: number;
  seed: number;
}

export function buildFixtureV04(v: VariantV04): Fixture {
  const files = new Map<string, Uint8Array>();
  const inShape = [1, 1, 64, 48];
  const outShape = [1, v.channels, 64, 48];
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  files.set('test_input.npy', writeNpy(seededValues(n(inShape), v.seed, -2, 2), inShape));
  files.set('test_output.npy', writeNpy(seededValues(n(outShape), v.seed + 1, 0, 1), outShape));
  files.set('weights.onnx', onnxModelBytes([{ domain: '', version: 15 }]));
  files.set('README.md', new TextEncoder().encode('# UNet 2D\n\n## Validation\n\nok\n'));
  const rdf: Json = {
    format_version: '0.4.10',
    type: 'model',
    name: 'UNet 2D Membranes',
    description: 'A 2d U-Net for membranes.',
    authors: [{ name: 'Jane Doe', affiliation: 'Lab' }],
    maintainers: [{ name: 'Jane Doe', github_user: 'fynnbe' }],
    cite: [{ text: 'Ronneberger et al. 2015', doi: '10.1007/978-3-319-24574-4_28' }],
    license: 'MIT',
    documentation: 'README.md',
    tags: ['unet2d', 'pytorch', 'membranes'],
    timestamp: '2019-12-11T12:22:32Z',
    inputs: [
      {
        name: 'raw',
        axes: 'bcyx',
        data_type: 'float32',
        data_range: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
        shape: v.shape === 'explicit' ? inShape : { min: [1, 1, 32, 32], step: [0, 0, 16, 16] },
        preprocessing: [{ name: 'zero_mean_unit_variance', kwargs: { mode: 'per_sample', axes: 'yx' } }],
      },
    ],
    outputs: [
      {
        name: 'probability',
        axes: 'bcyx',
        data_type: 'float32',
        data_range: [0, 1],
        ...(v.halo ? { halo: [0, 0, v.halo, v.halo] } : {}),
        shape: { reference_tensor: 'raw', scale: [1, 0, 1, 1], offset: [0, v.channels / 2, 0, 0] },
        postprocessing: [{ name: 'sigmoid' }],
      },
    ],
    test_inputs: ['test_input.npy'],
    test_outputs: ['test_output.npy'],
    weights: { onnx: { source: 'weights.onnx', sha256: AUTO, opset_version: 15 } },
  };
  return { rdf, files };
}
