/** Pre- and postprocessing steps, keyed by the spec's discriminator `id`. */

import type { DataType } from './tensors.js';

export interface BinarizeStep {
  readonly id: 'binarize';
  readonly kwargs:
    | { readonly threshold: number }
    | { readonly threshold: readonly number[]; readonly axis: string };
}
export interface ClipStep {
  readonly id: 'clip';
  readonly kwargs: {
    readonly min?: number | null;
    readonly max?: number | null;
    readonly min_percentile?: number | null;
    readonly max_percentile?: number | null;
    readonly axes?: readonly string[] | null;
  };
}
export interface EnsureDtypeStep {
  readonly id: 'ensure_dtype';
  readonly kwargs: { readonly dtype: DataType | 'bool' };
}
export interface ScaleLinearStep {
  readonly id: 'scale_linear';
  readonly kwargs:
    | { readonly gain?: number; readonly offset?: number }
    | { readonly axis: string; readonly gain?: readonly number[]; readonly offset?: readonly number[] };
}
export interface ScaleRangeStep {
  readonly id: 'scale_range';
  readonly kwargs?: {
    readonly axes?: readonly string[] | null;
    readonly min_percentile?: number;
    readonly max_percentile?: number;
    readonly eps?: number;
    readonly reference_tensor?: string | null;
  };
}
export interface SigmoidStep {
  readonly id: 'sigmoid';
  readonly kwargs?: Record<string, never>;
}
export interface SoftmaxStep {
  readonly id: 'softmax';
  readonly kwargs?: { readonly axis?: string };
}
export interface ZeroMeanUnitVarianceStep {
  readonly id: 'zero_mean_unit_variance';
  readonly kwargs?: { readonly axes?: readonly string[] | null; readonly eps?: number };
}
export interface FixedZeroMeanUnitVarianceStep {
  readonly id: 'fixed_zero_mean_unit_variance';
  readonly kwargs:
    | { readonly mean: number; readonly std: number }
    | { readonly axis: string; readonly mean: readonly number[]; readonly std: readonly number[] };
}
export interface ScaleMeanVarianceStep {
  readonly id: 'scale_mean_variance';
  readonly kwargs: {
    readonly reference_tensor: string;
    readonly axes?: readonly string[] | null;
    readonly eps?: number;
  };
}

export type PreprocessingStep =
  | BinarizeStep
  | ClipStep
  | EnsureDtypeStep
  | ScaleLinearStep
  | ScaleRangeStep
  | SigmoidStep
  | SoftmaxStep
  | ZeroMeanUnitVarianceStep
  | FixedZeroMeanUnitVarianceStep;

export type PostprocessingStep = PreprocessingStep | ScaleMeanVarianceStep;
export type ProcessingId = PostprocessingStep['id'];

/** The transformations JDLL (deepImageJ 3) implements; `ensure_dtype` entries are skipped there. */
export const JDLL_PROCESSING_IDS: ReadonlySet<ProcessingId> = new Set<ProcessingId>([
  'binarize',
  'clip',
  'ensure_dtype',
  'fixed_zero_mean_unit_variance',
  'scale_linear',
  'scale_range',
  'sigmoid',
  'zero_mean_unit_variance',
]);

/** Read a step's kwargs as a plain record (kwargs may be absent for sigmoid etc.). */
export function stepKwargs(step: PostprocessingStep): Readonly<Record<string, unknown>> {
  return (step.kwargs ?? {}) as Readonly<Record<string, unknown>>;
}
