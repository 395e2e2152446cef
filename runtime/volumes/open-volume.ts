import * as zarr from 'zarrita';
import { UnsupportedDtypeError, VolumeError } from '../errors.js';
import { DTYPES, type DType, isDType } from '../tensors/dtype.js';
import type { NdArray } from '../tensors/ndarray.js';
import { omeFirstDataset } from './ome.js';
import { type Region, regionShape } from './region.js';
import { isRemote, storeFor } from './store.js';

type Store = ReturnType<typeof storeFor>;
type ZArray = zarr.Array<zarr.DataType, Store>;

/** A readable zarr array (v2 or v3, local directory or HTTP). */
export interface Volume {
  readonly location: string;
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  readonly dtype: DType;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** From the OME-Zarr group when the volume was opened through one: scale/translation per axis. */
  readonly placement?: { readonly scale?: readonly number[]; readonly translation?: readonly number[] };
  read(region: Region, options?: { signal?: AbortSignal }): Promise<NdArray>;
}

export interface OpenVolumeOptions {
  /** Array path inside a group; default: the array itself, or an OME-Zarr group's first dataset. */
  readonly path?: string;
  readonly signal?: AbortSignal;
}

export function checkRegion(location: string, shape: readonly number[], r: Region): void {
  const ok =
    r.start.length === shape.length &&
    r.stop.length === shape.length &&
    r.start.every((s, i) => Number.isInteger(s) && s >= 0 && s <= (r.stop[i] as number)) &&
    r.stop.every((s, i) => Number.isInteger(s) && s <= (shape[i] as number));
  if (!ok) {
    throw new TypeError(`'region' [${r.start}]..[${r.stop}] is not inside ${location} of shape [${shape}]`);
  }
}

export async function readRegion(arr: ZArray, location: string, region: Region, signal?: AbortSignal) {
  checkRegion(location, arr.shape, region);
  const sel = region.start.map((s, i) => zarr.slice(s, region.stop[i] as number));
  const chunk = await zarr.get(arr, sel, { signal });
  return chunk;
}

export function wrapArray(location: string, arr: ZArray): Volume {
  const dtype = arr.dtype;
  if (!isDType(dtype)) throw new UnsupportedDtypeError(dtype, DTYPES, location);
  return {
    location,
    shape: arr.shape,
    chunks: arr.chunks,
    dtype,
    attrs: arr.attrs,
    async read(region, options = {}) {
      const chunk = await readRegion(arr, location, region, options.signal);
      return { dtype, shape: regionShape(region), data: chunk.data as NdArray['data'] };
    },
  };
}

/** Opens a zarr v2 or v3 array; a group is followed to its OME-Zarr first dataset or `options.path`. */
export async function openVolume(location: string, options: OpenVolumeOptions = {}): Promise<Volume> {
  const store = storeFor(location);
  const hint = isRemote(location)
    ? 'check the URL (it must point at the zarr root, served with .zarray/.zattrs or zarr.json)'
    : 'check the path; it must be a zarr v2 or v3 array or an OME-Zarr image group';
  let node: ZArray | zarr.Group<Store>;
  let where = zarr.root(store);
  if (options.path) where = where.resolve(options.path);
  try {
    node = await zarr.open(where, { signal: options.signal });
  } catch (cause) {
    throw new VolumeError(
      location,
      `cannot open zarr node${options.path ? ` '${options.path}'` : ''}`,
      hint,
      cause,
    );
  }
  if (node.kind === 'group') {
    const first = options.path ? undefined : omeFirstDataset(node.attrs);
    if (!first) {
      throw new VolumeError(
        location,
        'is a zarr group, not an array',
        "pass 'path' naming the array inside it",
      );
    }
    const vol = await openVolume(location, { ...options, path: first.path });
    return { ...vol, placement: { scale: first.scale, translation: first.translation } };
  }
  return wrapArray(options.path ? `${location}/${options.path}` : location, node);
}
