/** The voxel size (nm) and axis names of a zarr input: OME-Zarr multiscales or gunpowder's `resolution`. */
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';
import type { ZarrLocation } from './zarr-args.js';

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
