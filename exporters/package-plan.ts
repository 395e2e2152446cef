/**
 * Which bundle file becomes which zip entry, and the bundle as the RDF describes it.
 *
 * A bundle with a `zoo_variant` (dense nets) is packaged from it: weights with the output padded back
 * to the input's size and the invalid border declared as `halo`. bioimageio.core's blockwise
 * prediction (what ilastik/tiktorch tile with) needs that form; it fails on outputs declared as
 * already cropped (size offset −2·halo). The shared state_dict.pt + architecture.py rebuild it with
 * kwargs {pad_output: true}. The valid-output model.onnx is kept in the zip for emzoo's own
 * `predict --model x.zip` (cli/commands/model-source.ts unpacks `model.onnx` and expects output =
 * input − 2·halo); no bioimage.io consumer reads it. The RDF's weights point at the padded files and
 * model.onnx is an attachment (so bioimageio.core's packaging keeps it too). The padded test output is built at packaging time (test_output.npy centred in a
 * zero border) unless the bundle stores it as zoo/test_output.npy (earlier exports did).
 */
import { join } from 'node:path';
import { BUNDLE_FILES, type Bundle } from './bundle-read.js';

/** Zip entry names of the files the RDF references for weights and the test output. */
export interface RdfEntries {
  readonly onnx: string;
  readonly torchscript: string;
  readonly testOutput: string;
}

export interface PackagePlan {
  /** The bundle as the RDF describes it (zoo kwargs, shapes, round-trip errors merged in). */
  readonly bundle: Bundle;
  /** zip entry → bundle-relative file, for every bundle file that goes into the zip. */
  readonly files: ReadonlyMap<string, string>;
  readonly entries: RdfEntries;
  /** 'padded': output at the input's size, halo declared; 'valid': output = input − 2·halo. */
  readonly outputForm: 'padded' | 'valid';
  /** Zip entry of the valid-output ONNX kept beside padded weights (emzoo predict/server). */
  readonly validOnnx?: string;
  /** True when entries.testOutput is not a bundle file but test_output.npy padded at packaging. */
  readonly padTestOutput: boolean;
}

export const STANDARD_ENTRIES: RdfEntries = {
  onnx: 'model.onnx',
  torchscript: 'model.torchscript.pt',
  testOutput: 'test_output.npy',
};

export const PADDED_ENTRIES: RdfEntries = {
  onnx: 'model_padded.onnx',
  torchscript: 'model_padded.torchscript.pt',
  testOutput: 'test_output_padded.npy',
};

export function planPackage(b: Bundle): PackagePlan {
  const zoo = b.zoo_variant;
  if (zoo === undefined) {
    return {
      bundle: b,
      files: new Map(BUNDLE_FILES.map((f) => [f, f])),
      entries: STANDARD_ENTRIES,
      outputForm: 'valid',
      padTestOutput: false,
    };
  }
  const e = PADDED_ENTRIES;
  const stored = zoo.test_tensor;
  const files = new Map<string, string>([
    ['architecture.py', 'architecture.py'],
    ['state_dict.pt', 'state_dict.pt'],
    ['test_input.npy', 'test_input.npy'],
    [e.onnx, zoo.weights.onnx.file],
    [e.torchscript, zoo.weights.torchscript.file],
    ...(stored !== undefined ? [[e.testOutput, stored.file] as const] : []),
    ['model.onnx', 'model.onnx'],
  ]);
  // (b, c) of the valid output at the input's spatial size
  const paddedShape = stored?.shape ?? [
    ...b.output.test_tensor.shape.slice(0, 2),
    ...b.input.test_tensor.shape.slice(2),
  ];
  const hashes: Record<string, string> = {};
  for (const [entry, file] of files) hashes[entry] = b.files[file] as string;
  const bundle: Bundle = {
    ...b,
    architecture: { ...b.architecture, kwargs: { ...b.architecture.kwargs, ...zoo.kwargs } },
    output: { ...b.output, test_tensor: { file: e.testOutput, shape: paddedShape } },
    weights: {
      onnx: { ...zoo.weights.onnx, file: e.onnx },
      torchscript: { ...zoo.weights.torchscript, file: e.torchscript },
      state_dict: b.weights.state_dict,
    },
    roundtrip: { ...b.roundtrip, ...zoo.roundtrip },
    files: hashes,
  };
  return {
    bundle,
    files,
    entries: e,
    outputForm: 'padded',
    validOnnx: 'model.onnx',
    padTestOutput: stored === undefined,
  };
}

/** Absolute path of the bundle file behind a zip entry. */
export function planPath(plan: PackagePlan, entry: string): string {
  const file = plan.files.get(entry);
  if (file === undefined) throw new Error(`internal: ${entry} is not a bundle file of this package`);
  return join(plan.bundle.dir, file);
}
