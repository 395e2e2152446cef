/**
 * A bundle over a zarr volume (used by volume jobs and `bioimage-export predict`): checks the
 * input's axes, dtype and voxel size (and that a uint8 output fits the channels) before any block runs, then runs
 * runtime's blockwise executor (resumable through its done log), writing an OME-Zarr v3 output.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BlockwiseResult,
  type InferenceBackend,
  openVolume,
  type Progress,
  runBlockwise,
  type Volume,
} from '../runtime/index.js';
import { ServeError } from './errors.js';
import { assertUint8Fits } from './infer.js';
import { geometryOf, preprocessingOf, type ServedModel, validSizesText } from './model-facts.js';
import { findVoxelSize, type VoxelSize } from './voxel-size.js';
import type { Roi, ZarrLocation } from './zarr-args.js';

const argErr = (message: string, hint: string) => new ServeError('InvalidArgument', message, { hint });

const READABLE = ['uint8', 'uint16', 'uint32', 'int8', 'int16', 'int32', 'float32', 'float64'];

/** A window of `v` (spatial ROI; a leading channel axis is kept whole) as a Volume of the ROI's shape. */
export function roiVolume(v: Volume, roi: Roi): Volume {
  const lead = v.shape.length - 3;
  const shape = [...v.shape.slice(0, lead), ...roi.stop.map((s, i) => s - (roi.start[i] as number))];
  const shift = [...v.shape.slice(0, lead).map(() => 0), ...roi.start];
  return {
    ...v,
    location: `${v.location}[${roi.start.map((s, i) => `${s}:${roi.stop[i]}`).join(',')}]`,
    shape,
    read: (r, opts) =>
      v.read(
        {
          start: r.start.map((s, i) => s + (shift[i] as number)),
          stop: r.stop.map((s, i) => s + (shift[i] as number)),
        },
        opts,
      ),
  };
}

export interface VolumeRunOptions {
  readonly modelId: string;
  readonly bundle: ServedModel;
  readonly backend: InferenceBackend;
  readonly input: ZarrLocation;
  readonly output: ZarrLocation;
  readonly roi?: Roi;
  /** Block input size (valid model size); default: the largest within the memory budget. */
  readonly block?: readonly number[];
  readonly outputDtype: 'float32' | 'uint8';
  readonly memoryBudgetBytes: number;
  /** Blocks in flight (one per backend worker: each loop prefetches its next read); default 2. */
  readonly maxInFlight?: number;
  /** Skip the voxel size comparison (the caller knows the data matches). */
  readonly ignoreVoxelSize?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Non-fatal remarks (e.g. no voxel size found on the input). */
  readonly onNote?: (note: string) => void;
}

export interface CheckedInput {
  /** The input (windowed to the ROI if one was given). */
  readonly input: Volume;
  /** The whole input volume (the ROI's context is read from it). */
  readonly full: Volume;
  /** Voxel size found on the input, if any. */
  readonly found: VoxelSize | undefined;
}

/**
 * Everything that can be checked before a block runs: a dense model, the input's axes/channels,
 * dtype, voxel size (vs the bundle's), the ROI inside the volume, the block a valid model size.
 */
export async function checkVolumeInput(
  o: Pick<
    VolumeRunOptions,
    'modelId' | 'bundle' | 'input' | 'roi' | 'block' | 'ignoreVoxelSize' | 'signal' | 'onNote'
  > & { readonly outputDtype?: VolumeRunOptions['outputDtype'] },
): Promise<CheckedInput> {
  const b = o.bundle;
  if (b.output.kind !== 'dense') {
    throw argErr(
      `model '${o.modelId}' outputs one value per class, not a volume`,
      'use POST /v2/models/{id}/infer with synapse-centred crops for class models',
    );
  }
  // Before hours of blocks: a uint8 output (value·255) would clamp unbounded channels.
  if (o.outputDtype === 'uint8') assertUint8Fits(o.modelId, b.output, 'store float32 outputs for this model');
  const g = geometryOf(b);
  const full = await openVolume(o.input.container, { path: o.input.path || undefined, signal: o.signal });
  const rank = full.shape.length;
  const cIn = g.inputChannels;
  if (!(rank === 3 && cIn === 1) && !(rank === 4 && full.shape[0] === cIn)) {
    throw new ServeError(
      'InvalidTensor',
      `input ${full.location} has shape [${full.shape}]; model '${o.modelId}' needs ${cIn === 1 ? '[z, y, x] or ' : ''}[${cIn}, z, y, x]`,
      { hint: 'point the input at the raw intensity array (axes z, y, x; channels first if any)' },
    );
  }
  if (!READABLE.includes(full.dtype)) {
    throw new ServeError('InvalidTensor', `input ${full.location} has dtype ${full.dtype}`, {
      hint: `convert it to one of ${READABLE.join(', ')} (uint8 raw EM is typical)`,
    });
  }
  const want = b.input.voxel_size_nm;
  const found = await findVoxelSize(o.input);
  const spatialNames = found?.axes?.slice(-3).map((a) => a.toLowerCase());
  if (spatialNames && spatialNames.join(',') !== 'z,y,x') {
    throw new ServeError(
      'InvalidTensor',
      `input ${full.location} has axes [${found?.axes}]; the model needs the spatial axes in order z, y, x`,
      { hint: 'transpose the volume to (c,) z, y, x and write its OME axes in that order' },
    );
  }
  if (!found) {
    o.onNote?.(
      `no voxel size on ${o.input.container} (OME-Zarr scale or 'resolution'); assuming the model's [${want}] nm`,
    );
  } else if (
    !o.ignoreVoxelSize &&
    found.nm.some((v, i) => Math.abs(v - (want[i] as number)) > 0.01 * (want[i] as number))
  ) {
    throw new ServeError(
      'VoxelSizeMismatch',
      `input voxel size [${found.nm}] nm (${found.source}) differs from model '${o.modelId}' voxel size [${want}] nm`,
      {
        hint: 'resample the volume to the model voxel size, or pick a model trained at this resolution (--ignore-voxel-size only if the metadata is wrong)',
      },
    );
  }
  let input: Volume = full;
  const spatial = full.shape.slice(-3);
  if (o.roi) {
    const r = o.roi;
    if (r.stop.some((s, i) => s > (spatial[i] as number))) {
      throw argErr(
        `roi ${r.start.map((s, i) => `${s}:${r.stop[i]}`).join(',')} leaves the volume [${spatial}]`,
        `keep the roi inside [0, ${spatial.join(', ')})`,
      );
    }
    input = roiVolume(full, r);
    const align = g.alignment ?? g.step;
    if (r.start.some((v, i) => v % (align[i] as number) !== 0)) {
      o.onNote?.(
        `roi start [${r.start}] is not a multiple of the model's alignment [${align}]: tiles sit off the grid a whole-volume run uses, so values may differ slightly from it (start the roi on multiples of [${align}] for identical values)`,
      );
    }
  }
  if (o.block) {
    const okBlock = o.block.every((s, i) => {
      const rest = s - (g.minInput[i] as number);
      return rest >= 0 && rest % (g.step[i] as number) === 0;
    });
    if (!okBlock) {
      throw argErr(
        `block [${o.block}] is not a valid input size for '${o.modelId}'`,
        `use ${validSizesText(b)}`,
      );
    }
  }
  return { input, full, found };
}

/** Checks the input against the bundle, then runs (or resumes) the blockwise prediction. */
export async function runVolume(o: VolumeRunOptions): Promise<BlockwiseResult> {
  const b = o.bundle;
  const g = geometryOf(b);
  const { full, found } = await checkVolumeInput(o);
  const want = b.input.voxel_size_nm;
  const voxel = found?.nm ?? want;
  const offsetNm = (o.roi?.start ?? [0, 0, 0]).map((s, i) => s * (voxel[i] as number));
  const outPath = o.output.path ? join(o.output.container, o.output.path) : o.output.container;
  if (o.output.path) ensureGroup(o.output.container);
  return runBlockwise({
    backend: o.backend,
    geometry: g,
    // The whole volume with the ROI: its context is read, only the volume's border is padded.
    input: full,
    ...(o.roi ? { roi: o.roi } : {}),
    output: outPath,
    outputDtype: o.outputDtype,
    memoryBudgetBytes: o.memoryBudgetBytes,
    ...(o.maxInFlight ? { maxInFlight: o.maxInFlight } : {}),
    blockInput: o.block,
    normalization: { kind: 'scale_linear', ...preprocessingOf(b) },
    ome: {
      voxelSize: [...voxel],
      translation: offsetNm,
      channelNames: [...b.output.channel_names],
      name: `${o.modelId} prediction`,
    },
    attributes: {
      emzoo: { model: o.modelId, input: `${o.input.container}/${o.input.path}`, roi: o.roi ?? null },
    },
    signal: o.signal,
    onProgress: o.onProgress,
  });
}

/** A zarr v3 group at the container root, so `out.zarr/name` outputs sit in a valid hierarchy. */
function ensureGroup(container: string): void {
  mkdirSync(container, { recursive: true });
  const meta = join(container, 'zarr.json');
  if (!existsSync(meta) && !existsSync(join(container, '.zgroup'))) {
    writeFileSync(meta, JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }));
  }
}
