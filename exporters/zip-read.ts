/**
 * Random-access reader for a zip on disk: the central directory is read once, each entry is read
 * (and inflated) only when asked for. Packages with paper-size weights exceed what one Buffer or
 * readFile can hold, so the zip is never loaded whole; archives past 4 GiB carry zip64 records
 * (zip64 end record + locator, zip64 extra fields), which are read here.
 */
import { createHash } from 'node:crypto';
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

const MAX_32 = 0xffff_ffff;

/** A 64-bit little-endian field as a number (exact below 2^53: 8 PiB, far past any zip here). */
function u64(b: Buffer, at: number): number {
  return Number(b.readBigUInt64LE(at));
}

/**
 * Where the central directory is and how many entries it has: from the end record, or from the zip64
 * end record its locator points at (written right before the end record when a field overflowed).
 */
function endOfArchive(fd: number, path: string): { count: number; cdSize: number; cdOffset: number } {
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
  const end = {
    count: tail.readUInt16LE(eocd + 10),
    cdSize: tail.readUInt32LE(eocd + 12),
    cdOffset: tail.readUInt32LE(eocd + 16),
  };
  const locAt = size - tailLen + eocd - 20;
  const loc = locAt >= 0 ? readAt(fd, locAt, 20) : undefined;
  if (loc === undefined || loc.length < 20 || loc.readUInt32LE(0) !== 0x07064b50) {
    if (end.count === 0xffff || end.cdSize === MAX_32 || end.cdOffset === MAX_32)
      throw invalid(path, 'the end record points to zip64 records, but there is no zip64 locator');
    return end;
  }
  const z64At = u64(loc, 8);
  const rec = readAt(fd, z64At, 56);
  if (rec.length < 56 || rec.readUInt32LE(0) !== 0x06064b50)
    throw invalid(path, `no zip64 end-of-central-directory record at offset ${z64At}`);
  return { count: u64(rec, 32), cdSize: u64(rec, 40), cdOffset: u64(rec, 48) };
}

function centralDirectory(fd: number, path: string): Map<string, Entry> {
  const { count, cdSize, cdOffset } = endOfArchive(fd, path);
  const cd = readAt(fd, cdOffset, cdSize);
  const entries = new Map<string, Entry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50)
      throw invalid(path, 'corrupt central directory');
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    let size = cd.readUInt32LE(p + 24);
    let compressedSize = cd.readUInt32LE(p + 20);
    let localOffset = cd.readUInt32LE(p + 42);
    if (size === MAX_32 || compressedSize === MAX_32 || localOffset === MAX_32) {
      // zip64 extra field (id 1): the 64-bit values of the fields marked 0xFFFFFFFF, in this order
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      let z64: Buffer | undefined;
      while (x + 4 <= xEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (id === 0x0001) z64 = cd.subarray(x + 4, Math.min(x + 4 + len, xEnd));
        x += 4 + len;
      }
      if (z64 === undefined) throw invalid(path, `${name}: 32-bit fields overflow but no zip64 extra field`);
      let q = 0;
      const next = () => {
        if (q + 8 > (z64 as Buffer).length) throw invalid(path, `${name}: zip64 extra field too short`);
        const v = u64(z64 as Buffer, q);
        q += 8;
        return v;
      };
      if (size === MAX_32) size = next();
      if (compressedSize === MAX_32) compressedSize = next();
      if (localOffset === MAX_32) localOffset = next();
    }
    entries.set(name, { method: cd.readUInt16LE(p + 10), compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + cd.readUInt16LE(p + 32);
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
  const dataOffset = (f: number, name: string, e: Entry): number => {
    const local = readAt(f, e.localOffset, 30);
    if (local.readUInt32LE(0) !== 0x04034b50) throw invalid(path, `bad local header for ${name}`);
    return e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  };
  const read = (name: string): Uint8Array | undefined => {
    const e = entries.get(name);
    if (e === undefined) return undefined;
    // one open per read: no descriptor outlives a call, however many zips a process looks at
    const f = openSync(path, 'r');
    let data: Buffer;
    try {
      data = readAt(f, dataOffset(f, name, e), e.compressedSize);
    } finally {
      closeSync(f);
    }
    if (e.method === 0) return new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (e.method === 8) return new Uint8Array(inflateRawSync(data));
    throw invalid(path, `${name} uses compression method ${e.method} (only store and deflate are read)`);
  };
  /**
   * sha256 of an entry's data, streamed from the zip for stored entries (weights: validation then
   * hashes them without holding them in memory); deflated entries are small and inflated whole.
   */
  const sha256 = async (name: string): Promise<string | undefined> => {
    const e = entries.get(name);
    if (e === undefined) return undefined;
    if (e.method !== 0)
      return createHash('sha256')
        .update(read(name) as Uint8Array)
        .digest('hex');
    const f = openSync(path, 'r');
    try {
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(4 << 20);
      const start = dataOffset(f, name, e);
      for (let done = 0; done < e.compressedSize; ) {
        const n = readSync(f, buf, 0, Math.min(buf.length, e.compressedSize - done), start + done);
        if (n === 0) throw invalid(path, `${name} is cut short`);
        h.update(buf.subarray(0, n));
        done += n;
      }
      return h.digest('hex');
    } finally {
      closeSync(f);
    }
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
    source: { label: path, list: async () => names, read: async (name) => read(name), sha256 },
  };
}
