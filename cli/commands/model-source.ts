/**
 * `--model ID|zip|bundle-dir` → the facts predict needs: a bundle folder (bundle.yaml), a model id
 * under the weights folder, or a bioimage.io zip made by `bioimage-export package` (its rdf.yaml
 * carries the emzoo facts under config.emzoo; model.onnx is unpacked once to a cache folder named
 * by the zip's sha256). The zip is never read whole: packages with paper-size weights pass 2 GiB,
 * more than readFileSync may return; the hash streams and entries are read by offset.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { ExportError, readBundle, readZip } from '../../exporters/index.js';
import type { ServedModel } from '../../server/model-facts.js';
import { resolveBundle } from '../bundles.js';

export interface ModelSource {
  readonly id: string;
  readonly model: ServedModel;
}

type Axis = { type?: string; size?: { min?: number; step?: number } };
type Rdf = {
  inputs?: {
    id?: string;
    axes?: Axis[];
    preprocessing?: { id?: string; kwargs?: { gain?: number; offset?: number } }[];
  }[];
  outputs?: { id?: string }[];
  config?: {
    emzoo?: {
      bundle_id?: string;
      voxel_size_nm?: Record<string, number>;
      output_kind?: 'dense' | 'classes';
      channel_names?: string[];
      halo?: Record<string, number>;
      semantics?: Record<string, unknown>;
    };
  };
};

const zyx = (o: Record<string, number> | undefined) =>
  o && ['z', 'y', 'x'].every((k) => typeof o[k] === 'number')
    ? ([o.z, o.y, o.x] as [number, number, number])
    : undefined;

/** How much of the file one read takes while hashing. */
export const HASH_CHUNK_BYTES = 4 << 20;

/**
 * sha256 (hex) of a file read in chunks of `chunkBytes`: memory stays at one chunk whatever the size.
 * Synchronous like loadModelSource, which predict calls before anything else runs.
 */
export function sha256FileChunked(path: string, chunkBytes: number = HASH_CHUNK_BYTES): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(chunkBytes);
  const fd = openSync(path, 'r');
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, chunkBytes, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function fromZip(path: string): ModelSource {
  const zip = readZip(path);
  const rdf = yaml.load(new TextDecoder().decode(zip.get('rdf.yaml'))) as Rdf;
  const inp = rdf.inputs?.[0];
  const em = rdf.config?.emzoo;
  const space = (inp?.axes ?? []).filter((a) => a.type === 'space');
  const pre = inp?.preprocessing?.find((p) => p.id === 'scale_linear')?.kwargs;
  const voxel = zyx(em?.voxel_size_nm);
  if (
    !inp?.id ||
    !rdf.outputs?.[0]?.id ||
    !em?.output_kind ||
    !em.channel_names ||
    !voxel ||
    space.length !== 3
  ) {
    throw new ExportError(
      'ZipInvalid',
      `${path}: rdf.yaml lacks the emzoo facts predict needs (config.emzoo, inputs/outputs)`,
      {
        hint: 'pass a zip made by `bioimage-export package`, or the bundle folder',
      },
    );
  }
  const hash = sha256FileChunked(path).slice(0, 16);
  const dir = join(tmpdir(), `emzoo-model-${hash}`);
  if (!existsSync(join(dir, 'model.onnx'))) {
    const work = `${dir}.${process.pid}.tmp`;
    mkdirSync(work, { recursive: true });
    // only this entry is read (by its offset in the zip); ONNX files stay under protobuf's 2 GiB
    writeFileSync(join(work, 'model.onnx'), zip.get('model.onnx'));
    try {
      renameSync(work, dir);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another process unpacked it first
    }
  }
  const channelAxis = (inp.axes ?? []).find((a) => a.type === 'channel') as
    | { channel_names?: string[] }
    | undefined;
  return {
    id: em.bundle_id ?? path,
    model: {
      dir,
      input: {
        name: inp.id,
        channel_names: channelAxis?.channel_names ?? ['raw'],
        voxel_size_nm: voxel,
        valid_size: {
          min: space.map((a) => a.size?.min ?? 1) as unknown as [number, number, number],
          step: space.map((a) => a.size?.step ?? 0) as unknown as [number, number, number],
        },
        preprocessing: { kind: 'scale_linear', gain: pre?.gain ?? 1, offset: pre?.offset ?? 0 },
      },
      output: {
        name: rdf.outputs[0].id,
        kind: em.output_kind,
        channel_names: em.channel_names,
        halo: zyx(em.halo),
        ...(em.semantics && typeof em.semantics === 'object' ? { semantics: em.semantics } : {}),
      },
      weights: { onnx: { file: 'model.onnx' } },
    },
  };
}

export function loadModelSource(arg: string, weights: string): ModelSource {
  if (arg.endsWith('.zip') && existsSync(arg)) return fromZip(arg);
  const b = readBundle(resolveBundle(arg, weights));
  return { id: b.id, model: b };
}
