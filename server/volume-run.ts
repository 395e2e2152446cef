/**
 * A bundle over a zarr volume (used by volume jobs and `bioimage-export predict`): checks the
 * input's axes, dtype and voxel size against the bundle before any block runs, then runs
 * runtime's blockwise executor (resumable through its done log), writing an OME-Zarr v3 output.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';
import {
  type BlockwiseResult,
  type InferenceBackend,
  openVolume,
  type Progress,
  runBlockwise,
  type Volume,
} from '../runtime/index.js';
import { ServeError } from './errors.js';
import { geometryOf, preprocessingOf, type ServedModel, validSizesText } from './model-facts.js';

export interface ZarrLocation {
  /** The zarr container folder (…/x.zarr). */
  readonly container: string;
  /** Node path inside it ('' = the root). */
  readonly path: string;
}

/** "a/b.zarr/volumes/raw" → container a/b.zarr, path volumes/raw (split after the last *.zarr/*.n5 segment). */
export function parseZarrLocation(s: string): ZarrLocation {
  const parts = s.split('/');
  let cut = -1;
  parts.forEach((p, i) => {
    if (/\.(zarr|n5)$/i.test(p)) cut = i;
  });
  if (cut < 0) return { container: s, path: '' };
  return {
    container: parts.slice(0, cut + 1).join('/'),
    path: parts
      .slice(cut + 1)
      .filter((p) => p !== '')
      .join('/'),
  };
}

export interface Roi {
  readonly start: readonly number[];
  readonly stop: readonly number[];
}

const argErr = (message: string, hint: string) => new ServeError('InvalidArgument', message, { hint });

/** "z0:z1,y0:y1,x0:x1" → Roi (half-open, voxels). */
export function parseRoi(s: string): Roi {
  const axes = s.split(',').map((a) => /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(a));
  if (axes.length !== 3 || axes.some((m) => !m || Number(m[1]) >= Number(m[2]))) {
    throw argErr(
      `roi '${s}' is not z0:z1,y0:y1,x0:x1 with z0 < z1 …`,
      'e.g. --roi 0:64,100:228,100:228 (voxels, end exclusive)',
    );
  }
  const m = axes as RegExpExecArray[];
  return { start: m.map((x) => Number(x[1])), stop: m.map((x) => Number(x[2])) };
}

/** "Z,Y,X" → three positive integers. */
export function parseTriple(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1)) {
    throw argErr(`${what} '${s}' is not three positive integers Z,Y,X`, `e.g. ${what} 64,128,128`);
  }
  return v;
}

export interface VoxelSize {
  readonly nm: readonly number[];
  readonly source: string;
  /** Axis names when the metadata has them (OME-Zarr), all axes in array order. */
  readonly axes?: readonly string[];
}

const UNIT_NM: Record<string, number> = { nanometer: 1, micrometer: 1000, angstrom: 0.1, millimeter: 1e6 };

type Attrs = Readonly<Record<string, unknown>>;
const nums = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && x > 0)
    ? (v as number[])
    : undefined;

/** Voxel size in nm from OME-Zarr multiscales (0.4/0.5) or gunpowder's `resolution` attribute. */
export function voxelSizeFromAttrs(attrs: Attrs, where: string): VoxelSize | undefined {
  const gp = nums(attrs.resolution);
  if (gp && gp.length >= 3)
    return { nm: gp.slice(-3), source: `${where} attribute 'resolution' (gunpowder)` };
  const ome = (attrs.ome as Attrs | undefined) ?? attrs;
  const ms = (ome.multiscales as Attrs[] | undefined)?.[0];
  if (!ms) return undefined;
  const axes = (ms.axes as { name?: string; type?: string; unit?: string }[] | undefined) ?? [];
  const ds = (
    ms.datasets as { coordinateTransformations?: { type?: string; scale?: unknown }[] }[] | undefined
  )?.[0];
  const scale = nums(ds?.coordinateTransformations?.find((t) => t.type === 'scale')?.scale);
  if (!scale || scale.length < 3) return undefined;
  const spatial = scale.slice(-3).map((s, i) => {
    const unit = axes[scale.length - 3 + i]?.unit;
    return s * (unit === undefined ? 1 : (UNIT_NM[unit] ?? Number.NaN));
  });
  if (spatial.some((v) => Number.isNaN(v))) return undefined;
  const names = axes.map((a) => String(a.name ?? '?'));
  return {
    nm: spatial,
    source: `${where} OME-Zarr multiscales scale`,
    ...(names.length === scale.length ? { axes: names } : {}),
  };
}

async function nodeAttrs(container: string, path: string): Promise<Attrs | undefined> {
  try {
    const store = /^https?:\/\//.test(container)
      ? new zarr.FetchStore(container.replace(/\/+$/, ''))
      : new FileSystemStore(container);
    const root = zarr.root(store);
    const node = await zarr.open(path ? root.resolve(path) : root);
    return node.attrs as Attrs;
  } catch {
    return undefined;
  }
}

/** Looks for the voxel size on the node, then on its parents (an OME image group holds it for its arrays). */
export async function findVoxelSize(loc: ZarrLocation): Promise<VoxelSize | undefined> {
  const parts = loc.path.split('/').filter((p) => p !== '');
  for (let n = parts.length; n >= 0; n--) {
    const p = parts.slice(0, n).join('/');
    const attrs = await nodeAttrs(loc.container, p);
    const v = attrs && voxelSizeFromAttrs(attrs, `${loc.container}${p ? `/${p}` : ''}`);
    if (v) return v;
  }
  return undefined;
}

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
  >,
): Promise<CheckedInput> {
  const b = o.bundle;
  if (b.output.kind !== 'dense') {
    throw argErr(
      `model '${o.modelId}' outputs one value per class, not a volume`,
      'use POST /v2/models/{id}/infer with synapse-centred crops for class models',
    );
  }
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
  return { input, found };
}

/** Checks the input against the bundle, then runs (or resumes) the blockwise prediction. */
export async function runVolume(o: VolumeRunOptions): Promise<BlockwiseResult> {
  const b = o.bundle;
  const g = geometryOf(b);
  const { input, found } = await checkVolumeInput(o);
  const want = b.input.voxel_size_nm;
  const voxel = found?.nm ?? want;
  const offsetNm = (o.roi?.start ?? [0, 0, 0]).map((s, i) => s * (voxel[i] as number));
  const outPath = o.output.path ? join(o.output.container, o.output.path) : o.output.container;
  if (o.output.path) ensureGroup(o.output.container);
  return runBlockwise({
    backend: o.backend,
    geometry: g,
    input,
    output: outPath,
    outputDtype: o.outputDtype,
    memoryBudgetBytes: o.memoryBudgetBytes,
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
