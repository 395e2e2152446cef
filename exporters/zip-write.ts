/**
 * Flat zip writer with zip64. fflate's streaming Zip writes classic records only (32-bit sizes and
 * offsets: 4 GiB at most), and the paper-size nets' packages (four ~1 GB weight files) pass that, so
 * the records are written here and fflate only deflates. Entries are written in order with their local
 * header first; CRC-32 and sizes are patched into the header once the data is through (the zip is a
 * file on disk, never a pipe), so there are no data descriptors. An entry, the central directory or
 * the archive that passes a 32-bit field gets zip64 records (APPNOTE 6.3.10, §4.3.9, §4.3.14-15,
 * §4.5.3); `forceZip64` writes them for every entry and the end record, so small archives can test
 * the zip64 path.
 *
 * Compression per entry: `true` deflates, `false` stores (weights: large and close to random, deflate
 * would cost seconds per GB for a few per cent), `'auto'` deflates a file of ≤ AUTO_DEFLATE_MAX bytes
 * when that saves ≥ 10 % and stores it otherwise (the padded test output is mostly zero border).
 * Every entry's sha256 is computed while it streams in and must equal the hash the RDF declares (a
 * file that changed under us fails). Every entry carries the same DOS mtime (the bundle's `created`,
 * in UTC) so the same inputs give the same bytes. The zip is written to `<out>.partial` and renamed
 * only when complete.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Deflate, deflateSync } from 'fflate';
import { ExportError } from './errors.js';

export type ZipEntry = {
  readonly name: string;
  /** For messages: what the entry is (a bundle file); default the name. */
  readonly label?: string;
  readonly expectedSha256?: string;
  readonly compress: boolean | 'auto';
} & ({ readonly path: string } | { readonly bytes: Uint8Array });

export interface ZipWriteOptions {
  /** Write zip64 records for every entry and the end of the archive, whatever the sizes (tests). */
  readonly forceZip64?: boolean;
}

/** Per entry: the sha256 (hex) and how it was stored. */
export interface WrittenEntry {
  readonly sha256: string;
  readonly method: 'store' | 'deflate';
  readonly size: number;
  readonly compressedSize: number;
  readonly zip64: boolean;
}

/** Largest file `'auto'` tries to deflate (it is read whole: generated tensors, test inputs). */
export const AUTO_DEFLATE_MAX = 64 * 2 ** 20;
/** `'auto'` keeps the deflated form only when it is at most this fraction of the original. */
export const AUTO_DEFLATE_RATIO = 0.9;
/** 32-bit size/offset fields hold values below this; the value itself marks "see the zip64 field". */
export const MAX_32 = 0xffff_ffff;
/** 16-bit entry counts hold values below this. */
export const MAX_16 = 0xffff;

const CHUNK = 1 << 20;
const LEVEL = 6;
const METHOD = { store: 0, deflate: 8 } as const;

/** True when a 32-bit zip field cannot hold `n` (0xFFFFFFFF itself is the zip64 marker). */
export function over32(n: number): boolean {
  return n >= MAX_32;
}

/**
 * The central-directory fields of an entry that go into its zip64 extra field (in APPNOTE's order:
 * size, compressed size, local header offset); `force` puts all three there.
 */
export function zip64Fields(
  e: { readonly size: number; readonly compressedSize: number; readonly offset: number },
  force = false,
): { size: boolean; compressedSize: boolean; offset: boolean } {
  return {
    size: force || over32(e.size),
    compressedSize: force || over32(e.compressedSize),
    offset: force || over32(e.offset),
  };
}

/** Whether the end of the archive needs the zip64 end record and locator. */
export function zip64End(count: number, cdSize: number, cdOffset: number, force = false): boolean {
  return force || count >= MAX_16 || over32(cdSize) || over32(cdOffset);
}

/**
 * Upper bound of an entry's stored size, known before its data is written: the local header gets a
 * zip64 field when this may pass 32 bits. fflate falls back to stored blocks for incompressible data
 * (5 header bytes per block of ≥ 7000 literals), so deflate grows data by < 0.1 %; the margin here is
 * wider. If the data still passed it, writeZip fails rather than write a wrong header.
 */
export function maxStoredSize(size: number, deflated: boolean): number {
  return deflated ? size + Math.ceil(size / 256) + 64 : size;
}

/** DOS date and time fields of an ISO timestamp, in UTC (the same bytes in any time zone). */
export function dosDateTime(iso: string): { time: number; date: number } {
  const t = new Date(iso).getTime();
  const ms = Number.isNaN(t)
    ? Date.UTC(2020, 0, 1)
    : Math.min(Math.max(t, Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31));
  const d = new Date(ms);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

interface Central {
  readonly name: Buffer;
  readonly method: number;
  readonly crc: number;
  readonly size: number;
  readonly compressedSize: number;
  readonly offset: number;
}

const u64 = (b: Buffer, v: number, at: number) => b.writeBigUInt64LE(BigInt(v), at);
const asciiName = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Sequential writer on a file descriptor that can patch bytes it already wrote. */
class Out {
  pos = 0;
  constructor(readonly fd: number) {}
  write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.pos + done);
    this.pos += b.length;
  }
  patch(at: number, b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, at + done);
  }
}

function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function changed(name: string, why: string): ExportError {
  return new ExportError('BundleInvalid', `${name} changed while packaging (${why})`, {
    hint: 'do not modify the bundle while `bioimage-export package` runs; run it again',
  });
}

export function writeZip(
  outPath: string,
  entries: readonly ZipEntry[],
  timestamp: string,
  options: ZipWriteOptions = {},
): Record<string, WrittenEntry> {
  const force = options.forceZip64 === true;
  const partial = `${outPath}.partial`;
  const fd = openSync(partial, 'w');
  const out = new Out(fd);
  const written: Record<string, WrittenEntry> = {};
  const central: Central[] = [];
  const { time, date } = dosDateTime(timestamp);
  try {
    for (const e of entries) {
      const name = Buffer.from(e.name, 'utf8');
      const offset = out.pos;
      const h = createHash('sha256');
      let crc = 0;
      // in-memory entries (and 'auto' files, read whole) are deflated in one call; others stream
      let whole: Uint8Array | undefined = 'bytes' in e ? e.bytes : undefined;
      let size: number;
      let src: number | undefined;
      if (whole !== undefined) size = whole.length;
      else {
        src = openSync((e as { path: string }).path, 'r');
        size = fstatSync(src).size;
        if (e.compress === 'auto' && size <= AUTO_DEFLATE_MAX) {
          closeSync(src);
          src = undefined;
          whole = readWhole((e as { path: string }).path);
          if (whole.length !== size) throw changed(e.label ?? e.name, `${size} bytes, then ${whole.length}`);
        }
      }
      try {
        let deflated: Uint8Array | undefined;
        const tryDeflate = e.compress === true || (e.compress === 'auto' && size <= AUTO_DEFLATE_MAX);
        if (whole !== undefined && tryDeflate) {
          const d = deflateSync(whole, { level: LEVEL });
          if (e.compress === true || d.length <= whole.length * AUTO_DEFLATE_RATIO) deflated = d;
        }
        // a big 'auto' file is stored without trying: only small files are worth deflating
        const deflate = deflated !== undefined || (src !== undefined && e.compress === true);
        const localZip64 = force || over32(maxStoredSize(size, deflate));
        const header = Buffer.alloc(30 + name.length + (localZip64 ? 20 : 0));
        header.writeUInt32LE(0x04034b50, 0);
        header.writeUInt16LE(localZip64 ? 45 : 20, 4); // version needed to extract
        header.writeUInt16LE(asciiName(e.name) ? 0 : 0x800, 6); // bit 11: UTF-8 name
        header.writeUInt16LE(deflate ? METHOD.deflate : METHOD.store, 8);
        header.writeUInt16LE(time, 10);
        header.writeUInt16LE(date, 12);
        // crc and sizes (14..25) are patched after the data
        header.writeUInt16LE(name.length, 26);
        header.writeUInt16LE(localZip64 ? 20 : 0, 28);
        name.copy(header, 30);
        if (localZip64) {
          header.writeUInt16LE(0x0001, 30 + name.length);
          header.writeUInt16LE(16, 32 + name.length);
        }
        out.write(header);
        const dataStart = out.pos;
        let read = 0;
        if (whole !== undefined) {
          h.update(whole);
          crc = crc32(whole);
          read = whole.length;
          out.write(deflated ?? whole);
        } else {
          const fdIn = src as number;
          const buf = Buffer.allocUnsafe(CHUNK);
          let stream: Deflate | undefined;
          if (deflate) {
            stream = new Deflate({ level: LEVEL });
            stream.ondata = (chunk) => out.write(chunk);
          }
          for (;;) {
            const n = readSync(fdIn, buf, 0, CHUNK, null);
            const part = buf.subarray(0, n);
            h.update(part);
            crc = crc32(part, crc);
            read += n;
            // fflate may keep a reference to what it is given: hand it a copy
            if (stream !== undefined) stream.push(new Uint8Array(part), n === 0);
            else if (n > 0) out.write(part);
            if (n === 0) break;
          }
          if (read !== size) throw changed(e.label ?? e.name, `${size} bytes, then ${read}`);
        }
        const compressedSize = out.pos - dataStart;
        if (!localZip64 && over32(compressedSize))
          throw new Error(`internal: ${e.name} passed 4 GiB without a zip64 local header`);
        const fix = Buffer.alloc(12);
        fix.writeUInt32LE(crc >>> 0, 0);
        fix.writeUInt32LE(localZip64 ? MAX_32 : compressedSize, 4);
        fix.writeUInt32LE(localZip64 ? MAX_32 : size, 8);
        out.patch(offset + 14, fix);
        if (localZip64) {
          const ext = Buffer.alloc(16);
          u64(ext, size, 0);
          u64(ext, compressedSize, 8);
          out.patch(offset + 34 + name.length, ext);
        }
        const sha = h.digest('hex');
        if (e.expectedSha256 !== undefined && sha !== e.expectedSha256) {
          throw new ExportError(
            'BundleInvalid',
            `${e.label ?? e.name} does not match its sha256 (${sha} ≠ ${e.expectedSha256}): it changed after export or while packaging; no zip written`,
            {
              hint: 're-export the bundle with `emzoo export`; never edit bundle files, nor while `bioimage-export package` runs',
            },
          );
        }
        central.push({
          name,
          method: deflate ? METHOD.deflate : METHOD.store,
          crc: crc >>> 0,
          size,
          compressedSize,
          offset,
        });
        const z = zip64Fields({ size, compressedSize, offset }, force);
        written[e.name] = {
          sha256: sha,
          method: deflate ? 'deflate' : 'store',
          size,
          compressedSize,
          zip64: localZip64 || z.size || z.compressedSize || z.offset,
        };
      } finally {
        if (src !== undefined) closeSync(src);
      }
    }

    const cdOffset = out.pos;
    for (const c of central) {
      const z = zip64Fields(c, force);
      const extraLen =
        z.size || z.compressedSize || z.offset ? 4 + 8 * (+z.size + +z.compressedSize + +z.offset) : 0;
      const rec = Buffer.alloc(46 + c.name.length + extraLen);
      rec.writeUInt32LE(0x02014b50, 0);
      rec.writeUInt16LE(extraLen > 0 ? 45 : 20, 4); // version made by (host 0: MS-DOS attributes)
      rec.writeUInt16LE(extraLen > 0 ? 45 : 20, 6); // version needed to extract
      rec.writeUInt16LE(asciiName(c.name.toString('utf8')) ? 0 : 0x800, 8);
      rec.writeUInt16LE(c.method, 10);
      rec.writeUInt16LE(time, 12);
      rec.writeUInt16LE(date, 14);
      rec.writeUInt32LE(c.crc, 16);
      rec.writeUInt32LE(z.compressedSize ? MAX_32 : c.compressedSize, 20);
      rec.writeUInt32LE(z.size ? MAX_32 : c.size, 24);
      rec.writeUInt16LE(c.name.length, 28);
      rec.writeUInt16LE(extraLen, 30);
      // comment length, disk number start, internal and external attributes: 0
      rec.writeUInt32LE(z.offset ? MAX_32 : c.offset, 42);
      c.name.copy(rec, 46);
      if (extraLen > 0) {
        let p = 46 + c.name.length;
        rec.writeUInt16LE(0x0001, p);
        rec.writeUInt16LE(extraLen - 4, p + 2);
        p += 4;
        for (const [on, v] of [
          [z.size, c.size],
          [z.compressedSize, c.compressedSize],
          [z.offset, c.offset],
        ] as const) {
          if (!on) continue;
          u64(rec, v, p);
          p += 8;
        }
      }
      out.write(rec);
    }
    const cdSize = out.pos - cdOffset;
    const count = central.length;
    const big = zip64End(count, cdSize, cdOffset, force);
    if (big) {
      const z64Offset = out.pos;
      const rec = Buffer.alloc(56 + 20);
      rec.writeUInt32LE(0x06064b50, 0);
      u64(rec, 44, 4); // size of the rest of this record
      rec.writeUInt16LE(45, 12);
      rec.writeUInt16LE(45, 14);
      // this disk 0, disk with the central directory 0
      u64(rec, count, 24);
      u64(rec, count, 32);
      u64(rec, cdSize, 40);
      u64(rec, cdOffset, 48);
      rec.writeUInt32LE(0x07064b50, 56); // locator
      u64(rec, z64Offset, 64);
      rec.writeUInt32LE(1, 72); // total number of disks
      out.write(rec);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(big && (force || count >= MAX_16) ? MAX_16 : count, 8);
    end.writeUInt16LE(big && (force || count >= MAX_16) ? MAX_16 : count, 10);
    end.writeUInt32LE(big && (force || over32(cdSize)) ? MAX_32 : cdSize, 12);
    end.writeUInt32LE(big && (force || over32(cdOffset)) ? MAX_32 : cdOffset, 16);
    out.write(end);
    closeSync(fd);
    renameSync(partial, outPath);
    return written;
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(partial, { force: true });
    throw err;
  }
}
