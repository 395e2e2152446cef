/**
 * The subset of the bioimage.io model RDF (format 0.5.4) this exporter writes. Field names are the
 * spec's own (snake_case) so the object serialises to rdf.yaml as is.
 */

export interface FileRef {
  source: string;
  sha256: string;
}

export type Size =
  | number
  | { min: number; step: number }
  | { tensor_id: string; axis_id: string; offset?: number };

export type Axis =
  | { type: 'batch' }
  | { type: 'channel'; channel_names: string[] }
  | { type: 'space'; id: 'z' | 'y' | 'x'; size: Size; unit: 'nanometer'; scale: number; halo?: number };

export interface InputTensor {
  id: string;
  description: string;
  axes: Axis[];
  data: { type: 'float32' };
  test_tensor: FileRef;
  sample_tensor?: FileRef;
  preprocessing: { id: 'scale_linear'; kwargs: { gain: number; offset: number } }[];
}

export interface OutputTensor {
  id: string;
  description: string;
  axes: Axis[];
  data: { type: 'float32'; range?: [number | null, number | null] };
  test_tensor: FileRef;
  sample_tensor?: FileRef;
}

export interface Weights {
  pytorch_state_dict: FileRef & {
    architecture: FileRef & { callable: string; kwargs: Record<string, unknown> };
    pytorch_version: string;
  };
  torchscript: FileRef & { pytorch_version: string; parent: 'pytorch_state_dict' };
  onnx: FileRef & { opset_version: number; parent: 'pytorch_state_dict' };
}

export interface ModelRdf {
  type: 'model';
  format_version: '0.5.4';
  name: string;
  description: string;
  authors: Record<string, string>[];
  maintainers: Record<string, string>[];
  cite: ({ text: string; doi: string } | { text: string; url: string })[];
  license: string;
  documentation: string;
  covers: string[];
  tags: string[];
  timestamp: string;
  inputs: InputTensor[];
  outputs: OutputTensor[];
  weights: Weights;
  /** Files the RDF ships beyond the typed ones (the zoo form's valid-output model.onnx). */
  attachments?: FileRef[];
  config: Record<string, unknown>;
}
