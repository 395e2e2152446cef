import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { InferenceBackend } from '../backend/types.js';
import { ShapeMismatchError, VolumeError } from '../errors.js';
import type { ModelGeometry } from '../tiling/geometry.js';
import { type LinearMap, type Normalization, resolveNormalization } from '../tiling/normalize.js';
import type { PadMode } from '../tiling/padding.js';
import { planTiles, shiftPlan, type TilePlan } from '../tiling/plan.js';
import {
  type Compressor,
  createVolume,
  openVolumeWriter,
  type VolumeWriter,
} from '../volumes/create-volume.js';
import type { OmeImageOptions } from '../volumes/ome.js';
import { openVolume, type Volume } from '../volumes/open-volume.js';
import type { Region } from '../volumes/region.js';
import { isRemote } from '../volumes/store.js';
import { type Progress, runBlockLoop } from './block-loop.js';
import { type BlockSource, LocalBlockSource } from './block-source.js';
import { DoneLog } from './done-log.js';

export type { Progress };

export interface BlockwiseOptions {
  readonly backend: InferenceBackend;
  readonly geometry: ModelGeometry;
  /** Input volume (opened, or a local path / http URL): [z,y,x] or [c,z,y,x]. */
  readonly input: Volume | string;
  /**
   * Only this spatial region of the input (volume coordinates, end exclusive); the output has its
   * shape. Context around it is read from the input where the volume has it; only the volume's own
   * border is padded, so the result equals the same region of a whole-volume prediction (exactly
   * when `roi.start` is a multiple of the model's alignment, e.g. its step).
   */
  readonly roi?: Region;
  /** Local path of the OME-Zarr output ([c,z,y,x], zarr v3); resumed if it exists with its done log. */
  readonly output: string;
  /** Default 'float32'; 'uint8' stores value·255. */
  readonly outputDtype?: 'float32' | 'uint8';
  /** Bytes for all blocks in flight together; each block gets memoryBudgetBytes / maxInFlight. */
  readonly memoryBudgetBytes: number;
  readonly activationFactor?: number;
  /** Explicit block input size (valid for the model) instead of the budget's choice. */
  readonly blockInput?: readonly number[];
  /** Default 'zero'. */
  readonly padding?: PadMode;
  /** Dataset-level normalisation, resolved once before any block runs. Default: identity. */
  readonly normalization?: Normalization;
  /** Blocks read/computed/written concurrently; default 2. Bounds peak memory. */
  readonly maxInFlight?: number;
  /** Block queue; default: a local source with a done log at `${output}.done.jsonl`. */
  readonly source?: BlockSource;
  readonly maxRetries?: number;
  readonly compressor?: Compressor;
  /** Output OME metadata; voxel size and translation default to an OME-Zarr input's. */
  readonly ome?: Omit<OmeImageOptions, 'channelAxis' | 'spatialAxes' | 'datasetPath'>;
  readonly attributes?: Record<string, unknown>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

export interface BlockwiseResult {
  readonly output: string;
  readonly doneLog: string | undefined;
  readonly plan: TilePlan;
  readonly normalization: LinearMap;
  /** Blocks computed by this run. */
  readonly processed: number;
  /** Blocks skipped as already done. */
  readonly skipped: number;
  readonly elapsedMs: number;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Voxel size and offset of an OME-Zarr input, so outputs land on it in napari/neuroglancer. */
function inheritPlacement(input: Volume, rank: number): { voxelSize?: number[]; translation?: number[] } {
  const spatial = (v: readonly number[] | undefined) => (v && v.length >= rank ? v.slice(-rank) : undefined);
  const voxelSize = spatial(input.placement?.scale);
  const translation = spatial(input.placement?.translation);
  return { ...(voxelSize ? { voxelSize } : {}), ...(translation ? { translation } : {}) };
}

function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * Runs a model over a volume block by block: read (with halo, padded) → infer → write, with at
 * most `maxInFlight` blocks in memory; done blocks are recorded so a re-run resumes; cancellable
 * through `signal` (rejects with Aborted after in-flight blocks settle).
 */
export async function runBlockwise(o: BlockwiseOptions): Promise<BlockwiseResult> {
  const t0 = performance.now();
  if (isRemote(o.output)) {
    throw new VolumeError(
      o.output,
      'outputs are written to local directories',
      'give a local path for the output',
    );
  }
  const input = typeof o.input === 'string' ? await openVolume(o.input, { signal: o.signal }) : o.input;
  const g = o.geometry;
  const spatialRank = g.minInput.length;
  const lead = input.shape.length - spatialRank;
  const channels = lead === 1 ? (input.shape[0] as number) : 1;
  if (lead < 0 || lead > 1 || channels !== g.inputChannels) {
    throw new ShapeMismatchError(
      `input volume ${input.location}`,
      `${g.inputChannels === 1 ? '[z, y, x] or ' : ''}[${g.inputChannels}, z, y, x]`,
      input.shape,
      "give the volume the model's input channels as a leading axis",
    );
  }
  const fullShape = input.shape.slice(lead);
  const roi = o.roi;
  if (
    roi &&
    (roi.start.length !== spatialRank ||
      roi.stop.length !== spatialRank ||
      roi.start.some((v, i) => !Number.isInteger(v) || v < 0 || v >= (roi.stop[i] as number)) ||
      roi.stop.some((v, i) => !Number.isInteger(v) || v > (fullShape[i] as number)))
  ) {
    throw new TypeError(
      `'roi' [${roi.start}]..[${roi.stop}] must be a non-empty region inside the volume [${fullShape}]`,
    );
  }
  const origin = roi ? [...roi.start] : fullShape.map(() => 0);
  const volumeShape = roi ? roi.stop.map((v, i) => v - (origin[i] as number)) : fullShape;
  const maxInFlight = o.maxInFlight ?? 2;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new TypeError(`'maxInFlight' must be a positive integer, got ${maxInFlight}`);
  }
  // Planned over the ROI's shape, placed at its origin: reads see the real context around it.
  const plan = shiftPlan(
    planTiles(volumeShape, g, {
      memoryBudgetBytes: o.memoryBudgetBytes / maxInFlight,
      activationFactor: o.activationFactor,
      outputBytes: (o.outputDtype ?? 'float32') === 'uint8' ? 1 : 4,
      blockInput: o.blockInput,
    }),
    origin,
  );
  const norm = await resolveNormalization(
    o.normalization ?? { kind: 'scale_linear', gain: 1, offset: 0 },
    input,
    {
      spatialAxes: spatialRank,
      signal: o.signal,
    },
  );
  const padding = o.padding ?? 'zero';
  const dtype = o.outputDtype ?? 'float32';
  const outShape = [g.outputChannels, ...volumeShape];
  const chunks = [g.outputChannels, ...plan.stride]; // one chunk per write region: no two blocks share a chunk
  const runId = fingerprint({
    model: resolve(o.backend.modelPath),
    input: isRemote(input.location) ? input.location : resolve(input.location),
    volumeShape,
    ...(roi ? { roi } : {}),
    blockInput: plan.blockInput,
    stride: plan.stride,
    halo: g.halo,
    dtype,
    padding,
    norm,
  });

  const logPath = o.source ? undefined : `${resolve(o.output)}.done.jsonl`;
  const outputExists = await exists(o.output);
  let log: DoneLog | undefined;
  if (logPath) {
    if (outputExists && !(await exists(logPath))) {
      throw new VolumeError(
        o.output,
        'exists but has no done-blocks log to resume from',
        'choose a new output path',
      );
    }
    // A log without its output is stale (output deleted): start over. The log is written before
    // the output is created, so a crash in between leaves only this recoverable state.
    if (!outputExists) await rm(logPath, { force: true });
    log = await DoneLog.open(logPath, runId, plan.blockCount);
  }
  const writer: VolumeWriter = outputExists
    ? await openVolumeWriter(o.output, { shape: outShape, chunks, dtype })
    : await createVolume(o.output, {
        shape: outShape,
        chunks,
        dtype,
        compressor: o.compressor,
        ome: { ...inheritPlacement(input, spatialRank), ...o.ome, channelAxis: true },
        attributes: { ...o.attributes, emzoo_run: runId },
      });
  const source =
    o.source ?? new LocalBlockSource(plan.blockCount, log as DoneLog, { maxRetries: o.maxRetries });

  const processed = await runBlockLoop({
    backend: o.backend,
    geometry: g,
    plan,
    source,
    input,
    padding,
    norm,
    maxInFlight,
    signal: o.signal,
    onProgress: o.onProgress,
    what: `blockwise run into ${o.output}`,
    outputDtype: dtype,
    // `out` arrives cropped to the write region and converted by the backend (in its worker).
    sink: (block, out, signal) =>
      writer.write([0, ...block.write.start.map((v, i) => v - (origin[i] as number))], out, { signal }),
  });
  return {
    output: o.output,
    doneLog: logPath,
    plan,
    normalization: norm,
    processed,
    skipped: source.alreadyDone,
    elapsedMs: performance.now() - t0,
  };
}
