import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import FileSystemStore from '@zarrita/storage/fs';
import * as zarr from 'zarrita';
import { ShapeMismatchError, VolumeError } from '../errors.js';
import { type DType, itemSize } from '../tensors/dtype.js';
import { type NdArray, stridesOf } from '../tensors/ndarray.js';
import { type OmeImageOptions, omeImageAttributes } from './ome.js';
import type { Volume } from './open-volume.js';
import { checkRegion, wrapArray } from './open-volume.js';

/** dtypes an output volume can hold (zarrita has no float16 in Node 20). */
export type OutputDType = Extract<DType, 'float32' | 'uint8' | 'uint16' | 'int32' | 'uint64'>;

/** Compressors zarrita can encode in Node (gzip/zlib only decode there). */
export type Compressor = 'zstd' | 'blosc' | 'lz4' | 'none';

export interface CreateVolumeOptions {
  /** Full array shape, e.g. [c, z, y, x] when `ome.channelAxis`. */
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  readonly dtype: OutputDType;
  /** Default 'zstd'. */
  readonly compressor?: Compressor;
  /**
   * Default 1. zstd (wasm) on uint8 LSD/affinity outputs of the demo model: level 1 216 MB/s,
   * ratio 1.27; level 3 87 MB/s, ratio 1.28 (bench/README.md): the same bytes on disk for 2.5× less
   * of the CPU that the model's workers share.
   */
  readonly level?: number;
  /** OME-NGFF 0.5 image metadata for the group. */
  readonly ome: OmeImageOptions;
  /** Extra group attributes (e.g. model id, channel semantics). */
  readonly attributes?: Record<string, unknown>;
  /** Replace an existing store at the path. Default false: an existing store is an error. */
  readonly overwrite?: boolean;
}

/** A zarr v3 array opened for writing, inside an OME-Zarr group. */
export interface VolumeWriter extends Volume {
  /** Writes `arr` (same rank, dtype) with its origin at `start`. */
  write(start: readonly number[], arr: NdArray, options?: { signal?: AbortSignal }): Promise<void>;
}

type FsArray = zarr.Array<zarr.DataType, FileSystemStore>;

function codecs(compressor: Compressor, level: number, itemsize: number): zarr.CodecMetadata[] {
  const bytes = { name: 'bytes', configuration: { endian: 'little' } };
  switch (compressor) {
    case 'none':
      return [bytes];
    case 'zstd':
      return [bytes, { name: 'zstd', configuration: { level, checksum: false } }];
    case 'lz4':
      return [bytes, { name: 'lz4', configuration: { acceleration: 1 } }];
    case 'blosc':
      return [
        bytes,
        {
          name: 'blosc',
          configuration: {
            cname: 'zstd',
            clevel: level,
            shuffle: 'shuffle',
            typesize: itemsize,
            blocksize: 0,
          },
        },
      ];
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function writer(location: string, arr: FsArray): VolumeWriter {
  const base = wrapArray(location, arr);
  return {
    ...base,
    async write(start, data, options = {}) {
      if (data.dtype !== base.dtype || data.shape.length !== arr.shape.length) {
        throw new ShapeMismatchError(
          `write to ${location}`,
          `a ${base.dtype} array of rank ${arr.shape.length}`,
          data.shape,
          'convert the block to the output dtype and keep the channel axis',
        );
      }
      const stop = start.map((s, i) => s + (data.shape[i] as number));
      checkRegion(location, arr.shape, { start, stop });
      const sel = start.map((s, i) => zarr.slice(s, stop[i] as number));
      await zarr.set(
        arr,
        sel,
        { data: data.data as never, shape: [...data.shape], stride: stridesOf(data.shape) },
        { signal: options.signal },
      );
    },
  };
}

/** Creates an OME-Zarr (NGFF 0.5, zarr v3) image: group metadata at `path`, the array at `path/0`. */
export async function createVolume(path: string, options: CreateVolumeOptions): Promise<VolumeWriter> {
  const abs = resolve(path);
  if (await exists(abs)) {
    if (!options.overwrite) {
      throw new VolumeError(path, 'already exists', "pass 'overwrite: true' or choose another output path");
    }
    await rm(abs, { recursive: true, force: true });
  }
  const { shape, chunks } = options;
  if (chunks.length !== shape.length || chunks.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new TypeError(`'chunks' must have ${shape.length} positive integers, got [${chunks}]`);
  }
  const expectedRank = (options.ome.spatialAxes?.length ?? 3) + (options.ome.channelAxis ? 1 : 0);
  if (shape.length !== expectedRank) {
    throw new TypeError(`'shape' [${shape}] must have rank ${expectedRank} to match the OME axes`);
  }
  const store = new FileSystemStore(abs);
  const datasetPath = options.ome.datasetPath ?? '0';
  await zarr.create(zarr.root(store), {
    attributes: { ...omeImageAttributes(options.ome), ...options.attributes },
  });
  const names = [...(options.ome.channelAxis ? ['c'] : []), ...(options.ome.spatialAxes ?? ['z', 'y', 'x'])];
  const arr = (await zarr.create(zarr.root(store).resolve(datasetPath), {
    shape: [...shape],
    chunkShape: [...chunks],
    dtype: options.dtype,
    codecs: codecs(options.compressor ?? 'zstd', options.level ?? 1, itemSize(options.dtype)),
    fillValue: 0,
    dimensionNames: names,
  })) as FsArray;
  return writer(`${path}/${datasetPath}`, arr);
}

/** Reopens a volume written by createVolume (to resume); checks shape, chunks and dtype. */
export async function openVolumeWriter(
  path: string,
  expected: Pick<CreateVolumeOptions, 'shape' | 'chunks' | 'dtype'> & { datasetPath?: string },
): Promise<VolumeWriter> {
  const store = new FileSystemStore(resolve(path));
  const datasetPath = expected.datasetPath ?? '0';
  let arr: FsArray;
  try {
    arr = await zarr.open.v3(zarr.root(store).resolve(datasetPath), { kind: 'array' });
  } catch (cause) {
    throw new VolumeError(path, 'cannot reopen output array', 'delete the output to start over', cause);
  }
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((v, i) => v === b[i]);
  if (
    !same(arr.shape, expected.shape) ||
    !same(arr.chunks, expected.chunks) ||
    arr.dtype !== expected.dtype
  ) {
    throw new VolumeError(
      path,
      `existing output is ${arr.dtype} [${arr.shape}] chunks [${arr.chunks}], this run needs ${expected.dtype} [${expected.shape}] chunks [${expected.chunks}]`,
      'write to a new output path, or delete the existing output',
    );
  }
  return writer(`${path}/${datasetPath}`, arr);
}
