/**
 * OME-NGFF 0.5 metadata (zarr v3: everything under the group's `attributes.ome`) for one-level
 * images, so napari (napari-ome-zarr) and neuroglancer place outputs in physical space.
 */

export type AxisType = 'channel' | 'space' | 'time';

export interface OmeAxis {
  readonly name: string;
  readonly type: AxisType;
  readonly unit?: string;
}

export interface OmeImageOptions {
  /** Spatial axis names in array order; default ['z', 'y', 'x']. */
  readonly spatialAxes?: readonly string[];
  /** Whether the array starts with a channel axis 'c'. */
  readonly channelAxis: boolean;
  /** Voxel size per spatial axis (in `unit`); default 1. */
  readonly voxelSize?: readonly number[];
  /** Physical offset of voxel (0,0,0) per spatial axis (in `unit`); default 0. */
  readonly translation?: readonly number[];
  /** UDUNITS-2 name as NGFF requires; default 'nanometer'. */
  readonly unit?: string;
  readonly name?: string;
  /** Channel labels, written as omero channel metadata (napari shows them). */
  readonly channelNames?: readonly string[];
  /** Path of the array inside the group; default '0'. */
  readonly datasetPath?: string;
}

export function omeImageAttributes(o: OmeImageOptions): Record<string, unknown> {
  const spatial = o.spatialAxes ?? ['z', 'y', 'x'];
  const unit = o.unit ?? 'nanometer';
  const voxel = o.voxelSize ?? spatial.map(() => 1);
  const offset = o.translation ?? spatial.map(() => 0);
  if (voxel.length !== spatial.length || offset.length !== spatial.length) {
    throw new TypeError(
      `'voxelSize' and 'translation' need ${spatial.length} entries (one per spatial axis)`,
    );
  }
  if (voxel.some((v) => !(v > 0))) throw new TypeError(`'voxelSize' entries must be > 0, got [${voxel}]`);
  const axes: OmeAxis[] = [
    ...(o.channelAxis ? [{ name: 'c', type: 'channel' as const }] : []),
    ...spatial.map((name) => ({ name, type: 'space' as const, unit })),
  ];
  const lead = o.channelAxis ? [1] : [];
  const lead0 = o.channelAxis ? [0] : [];
  const ome: Record<string, unknown> = {
    version: '0.5',
    multiscales: [
      {
        ...(o.name ? { name: o.name } : {}),
        axes,
        datasets: [
          {
            path: o.datasetPath ?? '0',
            coordinateTransformations: [
              { type: 'scale', scale: [...lead, ...voxel] },
              { type: 'translation', translation: [...lead0, ...offset] },
            ],
          },
        ],
      },
    ],
  };
  if (o.channelNames) {
    ome.omero = { channels: o.channelNames.map((label) => ({ label, active: true })) };
  }
  return { ome };
}

/** Placement of an OME-Zarr image's first dataset: per-axis scale and translation (all axes). */
export interface OmePlacement {
  readonly path: string;
  readonly scale: readonly number[] | undefined;
  readonly translation: readonly number[] | undefined;
}

type Transform = { type?: unknown; scale?: unknown; translation?: unknown };
type Multiscale = { datasets?: { path?: unknown; coordinateTransformations?: Transform[] }[] };

const numbers = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;

/** The first dataset of an OME-Zarr group (NGFF 0.4 `multiscales` or 0.5 `ome.multiscales`). */
export function omeFirstDataset(attrs: Record<string, unknown>): OmePlacement | undefined {
  const ome = (attrs.ome as { multiscales?: unknown } | undefined) ?? attrs;
  const ds = (ome as { multiscales?: Multiscale[] }).multiscales?.[0]?.datasets?.[0];
  if (typeof ds?.path !== 'string') return undefined;
  const t = ds.coordinateTransformations ?? [];
  return {
    path: ds.path,
    scale: numbers(t.find((x) => x.type === 'scale')?.scale),
    translation: numbers(t.find((x) => x.type === 'translation')?.translation),
  };
}
