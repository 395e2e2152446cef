import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isSpecError, npyStats, parseNpyHeader, readNpyValues } from '../../spec/index.js';
import { type WritableDtype, writeNpy } from './helpers/npy-write.js';

const DTYPES: [WritableDtype, number[]][] = [
  ['float16', [-2, 0.5, 3, 1024]],
  ['float32', [-1.5, 0, 2.25, 1e6]],
  ['float64', [-1e-300, 0, 7.125, 1e300]],
  ['uint8', [0, 1, 200, 255]],
  ['int8', [-128, -1, 0, 127]],
  ['uint16', [0, 1, 60000, 65535]],
  ['int16', [-32768, -5, 0, 32767]],
  ['uint32', [0, 1, 4e9, 4294967295]],
  ['int32', [-2147483648, -1, 0, 2147483647]],
  ['uint64', [0, 1, 2 ** 40, 2 ** 52]],
  ['int64', [-(2 ** 52), -1, 0, 2 ** 40]],
];

describe('parseNpyHeader / npyStats', () => {
  test.each(DTYPES)('%s: dtype, shape and values round-trip', (dtype, values) => {
    const bytes = writeNpy(values, [2, 2], dtype);
    const h = parseNpyHeader(bytes);
    expect(h.dtype).toBe(dtype);
    expect(h.shape).toEqual([2, 2]);
    expect(h.fortranOrder).toBe(false);
    expect(Array.from(readNpyValues(bytes).values)).toEqual(values);
    expect(npyStats(bytes)).toEqual({ min: Math.min(...values), max: Math.max(...values), count: 4 });
  });

  test('big-endian data is read with its byte order', () => {
    const bytes = writeNpy([1.5, -2, 3], [3], 'float32', { bigEndian: true });
    expect(parseNpyHeader(bytes).littleEndian).toBe(false);
    expect(Array.from(readNpyValues(bytes).values)).toEqual([1.5, -2, 3]);
  });

  test('Fortran order is transposed to C order; stats do not depend on order', () => {
    // C-order matrix [[0,1,2],[3,4,5]] stored column-major: 0,3,1,4,2,5
    const bytes = writeNpy([0, 3, 1, 4, 2, 5], [2, 3], 'float32', { fortran: true });
    const { header, values } = readNpyValues(bytes);
    expect(header.fortranOrder).toBe(true);
    expect(Array.from(values)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(npyStats(bytes)).toMatchObject({ min: 0, max: 5 });
  });

  test('scalars and empty arrays', () => {
    expect(parseNpyHeader(writeNpy([4], [], 'float32')).shape).toEqual([]);
    const empty = writeNpy([], [0, 3], 'float32');
    expect(parseNpyHeader(empty).shape).toEqual([0, 3]);
    expect(npyStats(empty).count).toBe(0);
  });

  test('files written by numpy itself (C, Fortran, >f8, v2 header) parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      const py = spawnSync(
        join(process.cwd(), '.venv/bin/python'),
        [
          '-c',
          `import numpy as np, sys
d = sys.argv[1]
a = np.arange(24, dtype='float32').reshape(2, 3, 4)
np.save(d + '/c.npy', a)
np.save(d + '/f.npy', np.asfortranarray(a))
np.save(d + '/be.npy', a.astype('>f8'))
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a.astype('uint16'), version=(2, 0))`,
          dir,
        ],
        { encoding: 'utf8' },
      );
      expect(py.stderr).toBe('');
      const expected = Array.from({ length: 24 }, (_, i) => i);
      for (const [name, dtype] of [
        ['c', 'float32'],
        ['f', 'float32'],
        ['be', 'float64'],
        ['v2', 'uint16'],
      ] as const) {
        const bytes = new Uint8Array(readFileSync(join(dir, `${name}.npy`)));
        const { header, values } = readNpyValues(bytes);
        expect(header.dtype).toBe(dtype);
        expect(header.shape).toEqual([2, 3, 4]);
        expect(Array.from(values)).toEqual(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const good = writeNpy([1, 2, 3, 4], [2, 2], 'float32');
const withHeader = (header: string) => {
  const b = new Uint8Array(10 + header.length);
  b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(b.buffer).setUint16(8, header.length, true);
  b.set(new TextEncoder().encode(header), 10);
  return b;
};

describe('parseNpyHeader rejects bad input with a clear error', () => {
  test.each([
    ['empty', new Uint8Array(), /bad magic/],
    ['not npy', new TextEncoder().encode('hello world, not numpy'), /bad magic/],
    ['format version 9', Uint8Array.from([...good.subarray(0, 6), 9, 0, ...good.subarray(8)]), /version 9/],
    ['truncated header', good.subarray(0, 40), /truncated/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated/],
    [
      'complex dtype',
      withHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n"),
      /unsupported .npy dtype 'c8'/,
    ],
    [
      'structured dtype',
      withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n"),
      /descr/,
    ],
    ['no shape', withHeader("{'descr': '<f4', 'fortran_order': False, }\n"), /shape/],
    [
      'negative dim',
      withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"),
      /bad dimension/,
    ],
  ])('%s', (_name, bytes, message) => {
    let caught: unknown;
    try {
      parseNpyHeader(bytes);
    } catch (e) {
      caught = e;
    }
    expect(isSpecError(caught, 'NpyFormatError')).toBe(true);
    expect((caught as Error).message).toMatch(message);
    expect((caught as { hint: string }).hint.length).toBeGreaterThan(0);
  });
});
