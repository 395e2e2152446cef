/**
 * Flat zip writer (fflate streaming): binaries are stored, text is deflated, every entry carries the
 * same fixed mtime so the same inputs give the same bytes. Each entry's sha256 is computed while it
 * streams into the zip and must equal the hash the RDF declares (a file that changed under us fails).
 * The zip is written to `<out>.partial` and renamed only when complete.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { ExportError } from './errors.js';

export type ZipEntry = {
  readonly name: string;
  readonly expectedSha256?: string;
  readonly compress: boolean;
} & ({ readonly path: string } | { readonly bytes: Uint8Array });

const CHUNK = 1 << 20;

/** DOS times are local time in fflate; shift so the stored fields are the UTC ones, whatever TZ. */
function dosStableDate(iso: string): Date {
  const t = new Date(iso);
  const ms = Number.isNaN(t.getTime()) ? Date.UTC(2020, 0, 1) : Math.max(t.getTime(), Date.UTC(1980, 0, 2));
  const d = new Date(ms);
  return new Date(ms + d.getTimezoneOffset() * 60_000);
}

export function writeZip(
  outPath: string,
  entries: readonly ZipEntry[],
  timestamp: string,
): Record<string, string> {
  const partial = `${outPath}.partial`;
  const fd = openSync(partial, 'w');
  const hashes: Record<string, string> = {};
  let failure: unknown = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else writeSync(fd, chunk);
  });
  const mtime = dosStableDate(timestamp);
  try {
    for (const e of entries) {
      const file = e.compress ? new ZipDeflate(e.name, { level: 6 }) : new ZipPassThrough(e.name);
      file.mtime = mtime;
      zip.add(file);
      const h = createHash('sha256');
      if ('bytes' in e) {
        h.update(e.bytes);
        file.push(e.bytes, true);
      } else {
        const src = openSync(e.path, 'r');
        try {
          const buf = Buffer.allocUnsafe(CHUNK);
          for (;;) {
            const n = readSync(src, buf, 0, CHUNK, null);
            const part = new Uint8Array(buf.subarray(0, n)); // copy: fflate may keep a reference
            h.update(part);
            file.push(part, n === 0);
            if (n === 0) break;
          }
        } finally {
          closeSync(src);
        }
      }
      const sha = h.digest('hex');
      if (e.expectedSha256 !== undefined && sha !== e.expectedSha256) {
        throw new ExportError(
          'BundleInvalid',
          `${e.name} changed while packaging (sha256 ${sha} ≠ ${e.expectedSha256})`,
          {
            hint: 'do not modify the bundle while `bioimage-export package` runs; run it again',
          },
        );
      }
      hashes[e.name] = sha;
    }
    zip.end();
    if (failure !== null) throw failure;
    closeSync(fd);
    renameSync(partial, outPath);
    return hashes;
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
