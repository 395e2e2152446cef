/**
 * The zip writer's zip64 records and compression choice, checked by independent readers: Python's
 * zipfile (the venv's CPython), Info-ZIP's `unzip -t` / `zipinfo` when installed, and our zip-read.ts.
 * An entry past 4 GiB is too big for CI, so small archives are forced into zip64 (every entry and
 * the end record), and the size thresholds are unit-tested on numbers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isExportError, readZip, writeZip } from '../../exporters/index.js';
import {
  AUTO_DEFLATE_MAX,
  dosDateTime,
  MAX_32,
  maxStoredSize,
  over32,
  type ZipEntry,
  zip64End,
  zip64Fields,
} from '../../exporters/zip-write.js';
import { ROOT, tempDir } from './bundles.js';

const PYTHON = join(ROOT, '.venv/bin/python');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic incompressible bytes (a sha256 counter stream). */
function noise(n: number, seed: string): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 32) {
    const block = createHash('sha256').update(`${seed}:${i}`).digest();
    out.set(block.subarray(0, Math.min(32, n - i)), i);
  }
  return out;
}

interface PyEntry {
  name: string;
  compress_type: number;
  file_size: number;
  compress_size: number;
  header_offset: number;
  sha256: string;
  zip64_extra: boolean;
  date_time: number[];
}

/** Python's zipfile: every entry (sha256 of its data, CRC checked by testzip) and the end-record facts. */
function pythonRead(zip: string): { entries: PyEntry[]; bad: string | null; zip64End: boolean } {
  const py = `
import hashlib, json, struct, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = []
for i in z.infolist():
    ids, x = [], i.extra
    while len(x) >= 4:
        tp, ln = struct.unpack('<HH', x[:4]); ids.append(tp); x = x[4 + ln:]
    out.append(dict(name=i.filename, compress_type=i.compress_type, file_size=i.file_size,
                    compress_size=i.compress_size, header_offset=i.header_offset,
                    sha256=hashlib.sha256(z.read(i)).hexdigest(), zip64_extra=1 in ids,
                    date_time=list(i.date_time)))
end = zipfile._EndRecData(open(sys.argv[1], 'rb'))
print(json.dumps(dict(entries=out, bad=z.testzip(), zip64End=end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64)))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', py, zip], { encoding: 'utf8' }));
}

const haveUnzip = spawnSync('unzip', ['-v']).status === 0;

function sample(dir: string): { entries: ZipEntry[]; data: Record<string, Uint8Array> } {
  const text = new TextEncoder().encode('name: zip64 test\n'.repeat(200));
  const random = noise(300_000, 'weights');
  const zeros = new Uint8Array(2_000_000);
  zeros.set(noise(1000, 'centre'), 1_000_000); // mostly zero border, like the padded test output
  const smallRandom = noise(50_000, 'tensor');
  writeFileSync(join(dir, 'weights.onnx'), random);
  writeFileSync(join(dir, 'padded.npy'), zeros);
  writeFileSync(join(dir, 'input.npy'), smallRandom);
  writeFileSync(join(dir, 'architecture.py'), text); // a file deflated as it streams
  return {
    entries: [
      { name: 'rdf.yaml', bytes: text, compress: true },
      { name: 'weights.onnx', path: join(dir, 'weights.onnx'), compress: false, expectedSha256: sha(random) },
      { name: 'padded.npy', path: join(dir, 'padded.npy'), compress: 'auto' },
      { name: 'input.npy', path: join(dir, 'input.npy'), compress: 'auto' },
      { name: 'architecture.py', path: join(dir, 'architecture.py'), compress: true },
      { name: 'cover.png', bytes: zeros.subarray(0, 5000), compress: 'auto' },
      { name: 'empty.txt', bytes: new Uint8Array(0), compress: true },
    ],
    data: {
      'rdf.yaml': text,
      'weights.onnx': random,
      'padded.npy': zeros,
      'input.npy': smallRandom,
      'architecture.py': text,
      'cover.png': zeros.subarray(0, 5000),
      'empty.txt': new Uint8Array(0),
    },
  };
}

describe('zip64 thresholds', () => {
  it('a 32-bit field holds values below 0xFFFFFFFF (the value itself is the zip64 marker)', () => {
    expect(MAX_32).toBe(2 ** 32 - 1);
    expect(over32(0)).toBe(false);
    expect(over32(2 ** 32 - 2)).toBe(false);
    expect(over32(2 ** 32 - 1)).toBe(true);
    expect(over32(5 * 2 ** 30)).toBe(true);
  });

  it('puts exactly the overflowing central-directory fields into the zip64 extra field', () => {
    const small = { size: 10, compressedSize: 10, offset: 0 };
    expect(zip64Fields(small)).toEqual({ size: false, compressedSize: false, offset: false });
    expect(zip64Fields(small, true)).toEqual({ size: true, compressedSize: true, offset: true });
    // a 4.5 GB weight file stored at the start
    expect(zip64Fields({ size: 4.5e9, compressedSize: 4.5e9, offset: 0 })).toEqual({
      size: true,
      compressedSize: true,
      offset: false,
    });
    // a small file after 4.3 GB of weights
    expect(zip64Fields({ size: 1e6, compressedSize: 2e5, offset: 4.3e9 })).toEqual({
      size: false,
      compressedSize: false,
      offset: true,
    });
    // a text file that deflates below 4 GiB (not that we have one)
    expect(zip64Fields({ size: 5e9, compressedSize: 1e9, offset: 0 })).toEqual({
      size: true,
      compressedSize: false,
      offset: false,
    });
  });

  it('needs the zip64 end record for ≥ 65535 entries or a directory past 4 GiB', () => {
    expect(zip64End(12, 1000, 4e9)).toBe(false);
    expect(zip64End(12, 1000, 4.3e9)).toBe(true);
    expect(zip64End(0xfffe, 1000, 10)).toBe(false);
    expect(zip64End(0xffff, 1000, 10)).toBe(true);
    expect(zip64End(12, MAX_32, 10)).toBe(true);
    expect(zip64End(1, 10, 10, true)).toBe(true);
  });

  it('gives the local header a zip64 field when the stored size may reach 4 GiB', () => {
    expect(over32(maxStoredSize(4e9, false))).toBe(false);
    expect(over32(maxStoredSize(4.3e9, false))).toBe(true);
    // deflate may grow incompressible data a little (fflate: a 5-byte stored-block header per block
    // of ≥ 7000 literals): near the limit the header plans for it
    expect(maxStoredSize(4.29e9, true)).toBeGreaterThan(4.29e9 + Math.ceil(4.29e9 / 7000) * 5);
    expect(over32(maxStoredSize(4.29e9, true))).toBe(true);
  });

  it('DOS timestamps are the UTC fields of the ISO time', () => {
    const { time, date } = dosDateTime('2026-11-25T10:42:46Z');
    expect([date >> 9, (date >> 5) & 15, date & 31]).toEqual([2026 - 1980, 11, 25]);
    expect([time >> 11, (time >> 5) & 63, (time & 31) * 2]).toEqual([10, 42, 46]);
  });
});

describe('writeZip read back by independent readers', () => {
  for (const force of [false, true]) {
    it(`${force ? 'forced zip64' : 'classic'}: Python zipfile, unzip and zip-read.ts read every entry`, async () => {
      const dir = tempDir('emzoo-zip64-');
      const { entries, data } = sample(dir);
      const zip = join(dir, 'out.zip');
      const written = writeZip(zip, entries, '2026-11-25T10:42:46Z', { forceZip64: force });
      const py = pythonRead(zip);
      expect(py.bad).toBeNull(); // every CRC-32 checks
      expect(py.zip64End).toBe(force);
      expect(py.entries.map((e) => e.name)).toEqual(entries.map((e) => e.name));
      for (const e of py.entries) {
        const want = data[e.name] as Uint8Array;
        expect([e.name, e.sha256, e.file_size, e.zip64_extra]).toEqual([
          e.name,
          sha(want),
          want.length,
          force,
        ]);
        expect([e.name, e.compress_type]).toEqual([e.name, written[e.name]?.method === 'deflate' ? 8 : 0]);
        expect([e.name, e.compress_size]).toEqual([e.name, written[e.name]?.compressedSize]);
        expect(e.date_time).toEqual([2026, 11, 25, 10, 42, 46]);
      }
      const ours = readZip(zip);
      for (const [name, want] of Object.entries(data)) {
        expect([name, sha(ours.get(name))]).toEqual([name, sha(want)]);
        // streamed from the zip (stored) or inflated (deflated): what validation compares
        expect([name, await ours.source.sha256?.(name)]).toEqual([name, sha(want)]);
      }
      expect(await ours.source.sha256?.('missing.bin')).toBeUndefined();
      if (haveUnzip) {
        const t = spawnSync('unzip', ['-t', zip], { encoding: 'utf8' });
        expect(t.stdout + t.stderr).toMatch(/No errors detected/);
        expect(t.status).toBe(0);
        const info = spawnSync('zipinfo', ['-v', zip], { encoding: 'utf8' }).stdout;
        // Info-ZIP lists each entry's zip64 extra field and reads the central directory through them
        expect((info.match(/subfield with ID 0x0001 \(PKWARE 64-bit sizes\)/g) ?? []).length).toBe(
          force ? entries.length : 0,
        );
        expect(info).toContain(`central directory contains ${entries.length} entries`);
      }
      const bytes = readFileSync(zip);
      // forced: the classic end record only points at the zip64 one
      const end = bytes.subarray(bytes.length - 22);
      expect(end.readUInt32LE(0)).toBe(0x06054b50);
      expect(end.readUInt32LE(16) === MAX_32).toBe(force);
    });
  }

  it("'auto' deflates small compressible files, stores incompressible ones and big files", () => {
    const dir = tempDir('emzoo-zip64-');
    const { entries } = sample(dir);
    const big = join(dir, 'big.npy');
    writeFileSync(big, '');
    truncateSync(big, AUTO_DEFLATE_MAX + 1); // sparse zeros: compressible, but too big to try
    const zip = join(dir, 'out.zip');
    const w = writeZip(
      zip,
      [...entries, { name: 'big.npy', path: big, compress: 'auto' }],
      '2026-01-01T00:00:00Z',
    );
    expect(w['padded.npy']?.method).toBe('deflate');
    expect(w['padded.npy']?.compressedSize).toBeLessThan(2_000_000 / 50);
    expect(w['cover.png']?.method).toBe('deflate');
    expect(w['input.npy']?.method).toBe('store');
    expect(w['weights.onnx']?.method).toBe('store');
    expect(w['rdf.yaml']?.method).toBe('deflate');
    expect(w['architecture.py']?.method).toBe('deflate');
    expect(w['architecture.py']?.compressedSize).toBeLessThan(w['architecture.py']?.size ?? 0);
    expect(w['big.npy']).toMatchObject({ method: 'store', size: AUTO_DEFLATE_MAX + 1 });
    const py = pythonRead(zip);
    expect(py.bad).toBeNull();
    expect(py.entries.find((e) => e.name === 'big.npy')?.compress_type).toBe(0);
  });

  it('the same entries give the same bytes', () => {
    const dir = tempDir('emzoo-zip64-');
    const { entries } = sample(dir);
    writeZip(join(dir, 'a.zip'), entries, '2026-01-01T00:00:00Z', { forceZip64: true });
    writeZip(join(dir, 'b.zip'), entries, '2026-01-01T00:00:00Z', { forceZip64: true });
    expect(readFileSync(join(dir, 'a.zip')).equals(readFileSync(join(dir, 'b.zip')))).toBe(true);
  });

  it('refuses a file whose hash is not the declared one, and leaves no zip behind', () => {
    const dir = tempDir('emzoo-zip64-');
    const { entries } = sample(dir);
    const bad = entries.map((e) =>
      e.name === 'weights.onnx' ? { ...e, expectedSha256: '0'.repeat(64) } : e,
    );
    let err: unknown;
    try {
      writeZip(join(dir, 'bad.zip'), bad, '2026-01-01T00:00:00Z');
    } catch (e) {
      err = e;
    }
    expect(isExportError(err, 'BundleInvalid')).toBe(true);
    expect((err as Error).message).toContain('weights.onnx');
    expect(readdirSync(dir).filter((n) => n.includes('.zip'))).toEqual([]);
  });
});
