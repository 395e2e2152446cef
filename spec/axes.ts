/** Axes of a bioimage.io 0.5 tensor, keyed by the spec's own discriminator `type`. */

export type AxisType = 'batch' | 'channel' | 'index' | 'time' | 'space';

/** Valid sizes are `min + n*step`, n = 0, 1, 2, … (inputs only). */
export interface ParameterizedSize {
  readonly min: number;
  readonly step: number;
}

/** `size = ref.size * ref.scale / axis.scale + offset`. */
export interface SizeReference {
  readonly tensor_id: string;
  readonly axis_id: string;
  readonly offset?: number;
}

/** Output-only: the size is known after inference. */
export interface DataDependentSize {
  readonly min?: number;
  readonly max?: number | null;
}

export type InputSize = number | ParameterizedSize | SizeReference;
export type OutputSize = number | SizeReference | DataDependentSize;
export type AnySize = InputSize | OutputSize;

interface AxisBase {
  readonly id?: string;
  readonly description?: string;
}

export interface BatchAxis extends AxisBase {
  readonly type: 'batch';
  readonly size?: 1 | null;
}

export interface ChannelAxis extends AxisBase {
  readonly type: 'channel';
  readonly channel_names: readonly string[];
}

export interface IndexAxis<S extends AnySize = AnySize> extends AxisBase {
  readonly type: 'index';
  readonly size: S;
  readonly concatenable?: boolean;
}

export interface TimeAxis<S extends AnySize = AnySize> extends AxisBase {
  readonly type: 'time';
  readonly size: S;
  readonly unit?: string | null;
  readonly scale?: number;
  readonly concatenable?: boolean;
  /** Outputs only; requires a SizeReference size. */
  readonly halo?: number;
}

export interface SpaceAxis<S extends AnySize = AnySize> extends AxisBase {
  readonly type: 'space';
  readonly size: S;
  readonly unit?: string | null;
  readonly scale?: number;
  readonly concatenable?: boolean;
  /** Outputs only; requires a SizeReference size. */
  readonly halo?: number;
}

export type InputAxis =
  | BatchAxis
  | ChannelAxis
  | IndexAxis<InputSize>
  | TimeAxis<InputSize>
  | SpaceAxis<InputSize>;
export type OutputAxis =
  | BatchAxis
  | ChannelAxis
  | IndexAxis<OutputSize>
  | TimeAxis<OutputSize>
  | SpaceAxis<OutputSize>;
export type AnyAxis = InputAxis | OutputAxis;

/** The spec's default ids: a space axis without `id` is `x` (so y and z must be explicit). */
const DEFAULT_AXIS_ID: Readonly<Record<AxisType, string>> = {
  batch: 'batch',
  channel: 'channel',
  index: 'index',
  time: 'time',
  space: 'x',
};

export function axisId(axis: AnyAxis): string {
  return axis.id ?? DEFAULT_AXIS_ID[axis.type];
}

export function axisScale(axis: AnyAxis): number {
  return axis.type === 'time' || axis.type === 'space' ? (axis.scale ?? 1) : 1;
}

export function axisUnit(axis: AnyAxis): string | null {
  return axis.type === 'time' || axis.type === 'space' ? (axis.unit ?? null) : null;
}

export function axisHalo(axis: AnyAxis): number {
  return axis.type === 'time' || axis.type === 'space' ? (axis.halo ?? 0) : 0;
}

/** The declared size: channel axes are sized by their names; batch is `null` unless fixed to 1. */
export function axisSize(axis: AnyAxis): AnySize | null {
  switch (axis.type) {
    case 'batch':
      return axis.size ?? null;
    case 'channel':
      return axis.channel_names.length;
    default:
      return axis.size;
  }
}

export function isParameterizedSize(size: unknown): size is ParameterizedSize {
  return typeof size === 'object' && size !== null && 'step' in size;
}

export function isSizeReference(size: unknown): size is SizeReference {
  return typeof size === 'object' && size !== null && 'tensor_id' in size;
}

export function isDataDependentSize(size: unknown): size is DataDependentSize {
  return typeof size === 'object' && size !== null && !('step' in size) && !('tensor_id' in size);
}

/** Axis ids: lower case, at most 16 characters (spec `AxisId` / `LowerCaseIdentifier`). */
export const AXIS_ID_PATTERN = /^[a-z_][a-z0-9_]{0,15}$/;
