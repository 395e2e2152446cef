/**
 * Random-access reader for a zip on disk: the central directory is read once, each entry is read
 * (and inflated) only when asked for. Packages with paper-size weights exceed what one Buffer or
 * readFile can hold, so the zip is never loaded whole.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { FileSource } from '../spec/index.js';
import { ExportError } from './errors.js';

export interface ZipContents {
  readonly path: string;
  readonly names: readonly string[];
  /** The whole zip file, read on first access (for hashing small packages; avoid for big ones). */
  readonly bytes: Uint8Array;
  has(name: string): boolean;
  /** The entry's bytes; ZipInvalid if it is missing. */
  get(name: string): Uint8Array;
  /** spec/'s FileSource view (for validatePackage). */
  readonly source: FileSource;
}

interface Entry {
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

function invalid(path: string, why: string): ExportError {
  return new ExportError('ZipInvalid', `${path} is not a readable zip: ${why}`, {
    hint: 'pass a zip made by `bioimage-export package`, or an rdf.yaml',
  });
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

function centralDirectory(fd: number, path: string): Map<string, Entry> {
  const size = fstatSync(fd).size;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw invalid(path, 'no end-of-central-directory record');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) throw invalid(path, 'zip64 archives are not supported');
  const cd = readAt(fd, cdOffset, cdSize);
  const entries = new Map<string, Entry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50)
      throw invalid(path, 'corrupt central directory');
    const nameLen = cd.readUInt16LE(p + 28);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    entries.set(name, {
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return entries;
}

/** Opens a package zip; it must be flat with rdf.yaml at the root (ZipInvalid otherwise). */
export function readZip(path: string): ZipContents {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new ExportError('InvalidArgument', `${path} does not exist or cannot be read`, {
      hint: 'pass the path of a .zip made by `bioimage-export package`',
    });
  }
  let entries: Map<string, Entry>;
  try {
    entries = centralDirectory(fd, path);
  } finally {
    closeSync(fd);
  }
  const names = [...entries.keys()].filter((n) => !n.endsWith('/'));
  if (!names.includes('rdf.yaml')) {
    throw new ExportError(
      'ZipInvalid',
      `${path} has no rdf.yaml at its root (entries: ${names.slice(0, 8).join(', ')})`,
      {
        hint: 'deepImageJ and bioimageio.core need rdf.yaml at the zip root; repackage with `bioimage-export package`',
      },
    );
  }
  const read = (name: string): Uint8Array | undefined => {
    const e = entries.get(name);
    if (e === undefined) return undefined;
    // one open per read: no descriptor outlives a call, however many zips a process looks at
    const f = openSync(path, 'r');
    let data: Buffer;
    try {
      const local = readAt(f, e.localOffset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) throw invalid(path, `bad local header for ${name}`);
      data = readAt(
        f,
        e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28),
        e.compressedSize,
      );
    } finally {
      closeSync(f);
    }
    if (e.method === 0) return new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (e.method === 8) return new Uint8Array(inflateRawSync(data));
    throw invalid(path, `${name} uses compression method ${e.method} (only store and deflate are read)`);
  };
  let whole: Uint8Array | undefined;
  return {
    path,
    names,
    get bytes() {
      whole ??= new Uint8Array(readFileSync(path));
      return whole;
    },
    has: (name) => entries.has(name),
    get(name) {
      const b = read(name);
      if (b === undefined) {
        throw new ExportError('ZipInvalid', `${path} has no entry ${name}, which its rdf.yaml references`, {
          hint: 'repackage with `bioimage-export package`',
        });
      }
      return b;
    },
    source: { label: path, list: async () => names, read: async (name) => read(name) },
  };
}
