/** Input and output tensor descriptions (bioimage.io model 0.5). */

import type { InputAxis, OutputAxis } from './axes.js';
import type { PostprocessingStep, PreprocessingStep } from './processing.js';

export type DataType =
  | 'float32'
  | 'float64'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'uint64'
  | 'int64';

/** A file: a relative path (to rdf.yaml's folder or the zip root) or an http(s) URL. */
export interface FileDescr {
  readonly source: string;
  readonly sha256?: string | null;
}

export interface IntervalOrRatioData {
  readonly type?: DataType;
  readonly range?: readonly [number | null, number | null];
  readonly unit?: string;
  readonly scale?: number;
  readonly offset?: number | null;
}

export interface NominalOrOrdinalData {
  readonly values: readonly (number | string | boolean)[];
  readonly type?: DataType | 'bool';
  readonly unit?: string | null;
}

export type TensorData = IntervalOrRatioData | NominalOrOrdinalData;

interface TensorBase {
  readonly id?: string;
  readonly description?: string;
  readonly test_tensor?: FileDescr | null;
  readonly sample_tensor?: FileDescr | null;
  readonly data?: TensorData | readonly TensorData[];
}

export interface InputTensor extends TensorBase {
  readonly axes: readonly InputAxis[];
  readonly optional?: boolean;
  readonly preprocessing?: readonly PreprocessingStep[];
}

export interface OutputTensor extends TensorBase {
  readonly axes: readonly OutputAxis[];
  readonly postprocessing?: readonly PostprocessingStep[];
}

export type AnyTensor = InputTensor | OutputTensor;

export function inputId(t: InputTensor): string {
  return t.id ?? 'input';
}

export function outputId(t: OutputTensor): string {
  return t.id ?? 'output';
}

/** `data.type`, or the first channel's type when data is given per channel (default float32). */
export function tensorDtype(t: AnyTensor): DataType | 'bool' {
  const d = Array.isArray(t.data) ? t.data[0] : (t.data as TensorData | undefined);
  if (d === undefined) return 'float32';
  if ('values' in d) return d.type ?? 'uint8';
  return d.type ?? 'float32';
}

/** Tensor ids: lower case, at most 32 characters (spec `TensorId`). */
export const TENSOR_ID_PATTERN = /^[a-z_][a-z0-9_]{0,31}$/;
