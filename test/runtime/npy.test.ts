import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isRuntimeError } from '../../runtime/errors.js';
import type { DType } from '../../runtime/tensors/dtype.js';
import { type NdArray, ndarray } from '../../runtime/tensors/ndarray.js';
import { parseNpy, readNpy } from '../../runtime/tensors/npy-read.js';
import { encodeNpy, writeNpy } from '../../runtime/tensors/npy-write.js';
import { python, withTempDir } from './helpers.js';

// Values per dtype including the extremes; float16 is given as raw half bits with their float value.
const HALF: [number, number][] = [
  [0x3c00, 1],
  [0xc000, -2],
  [0x3800, 0.5],
  [0x7bff, 65504],
  [0x0001, 2 ** -24],
  [0x0000, 0],
];
const CASES: Record<DType, (number | bigint)[]> = {
  float32: [0, 1.5, -3.25, 3.4028234663852886e38, 1e-45, 7],
  float16: HALF.map(([bits]) => bits),
  float64: [0, Math.PI, -1e300, 5e-324, 2, 3],
  uint8: [0, 1, 127, 128, 255, 42],
  int8: [-128, -1, 0, 1, 127, 5],
  uint16: [0, 1, 65535, 256, 300, 9],
  int16: [-32768, 32767, 0, -1, 2, 3],
  int32: [-2147483648, 2147483647, 0, -1, 65536, 7],
  uint32: [0, 4294967295, 1, 2, 3, 4],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n, 3n],
  uint64: [0n, 2n ** 64n - 1n, 1n, 2n ** 53n + 1n, 5n, 6n],
};
const SHAPE = [2, 3];

function arrayOf(dtype: DType): NdArray {
  const arr = ndarray(dtype, SHAPE);
  (arr.data as { set(v: ArrayLike<number | bigint>): void }).set(CASES[dtype]);
  return arr;
}

// What numpy should see: plain numbers (float16 as their float value), big ints as strings.
function expectedJson(dtype: DType): (number | string)[] {
  if (dtype === 'float16') return HALF.map(([, v]) => v);
  return CASES[dtype].map((v) => (typeof v === 'bigint' ? v.toString() : v));
}

const NUMPY_CHECK = `
import json, sys, numpy as np
d = sys.argv[1]
spec = json.load(open(f"{d}/expected.json"))
report = {}
for dtype, values in spec.items():
    a = np.load(f"{d}/ts_{dtype}.npy")
    want = np.array([int(v) if isinstance(v, str) else v for v in values], dtype=np.dtype(dtype)).reshape(2, 3)
    report[dtype] = {"dtype": a.dtype.name, "shape": list(a.shape), "equal": bool(np.array_equal(a, want))}
    np.save(f"{d}/py_{dtype}.npy", want)
print(json.dumps(report))
`;

describe('npy round trips against numpy', () => {
  test('every dtype: TS writes → numpy reads equal; numpy writes → TS reads equal', async () => {
    await withTempDir(async (dir) => {
      const dtypes = Object.keys(CASES) as DType[];
      const expected: Record<string, (number | string)[]> = {};
      for (const dtype of dtypes) {
        await writeNpy(join(dir, `ts_${dtype}.npy`), arrayOf(dtype));
        expected[dtype] = expectedJson(dtype);
      }
      await writeFile(join(dir, 'expected.json'), JSON.stringify(expected));
      const report = JSON.parse(await python(NUMPY_CHECK, [dir]));
      for (const dtype of dtypes) {
        expect(report[dtype], dtype).toEqual({ dtype, shape: SHAPE, equal: true });
        const back = await readNpy(join(dir, `py_${dtype}.npy`));
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(SHAPE);
        expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(
          Array.from(arrayOf(dtype).data as ArrayLike<number | bigint>),
        );
      }
    });
  });

  test('1-D, 0-D and empty shapes round-trip; headers are 64-byte aligned', () => {
    for (const shape of [[5], [], [0, 4]]) {
      const arr = ndarray('float32', shape);
      arr.data.fill(2.5);
      const bytes = encodeNpy(arr);
      const headerLen = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLen) % 64).toBe(0);
      const back = parseNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data as Float32Array)).toEqual(Array.from(arr.data));
    }
  });

  test('parse is zero-copy when aligned and copies when not', () => {
    const bytes = encodeNpy(arrayOf('float32'));
    expect(parseNpy(bytes).data.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = parseNpy(shifted.subarray(1));
    expect(unaligned.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(unaligned.data as Float32Array)).toEqual(
      CASES.float32.map((v) => Math.fround(Number(v))),
    );
  });
});

const NUMPY_ODD = `
import sys, numpy as np
d = sys.argv[1]
np.save(f"{d}/fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save(f"{d}/bigendian.npy", np.arange(6, dtype=">f4"))
np.save(f"{d}/complex.npy", np.zeros(3, dtype=np.complex64))
np.save(f"{d}/bool.npy", np.zeros(3, dtype=bool))
`;

describe('malformed .npy files give clear errors', () => {
  test.each([
    [
      'bad magic',
      (b: Uint8Array) => Uint8Array.from([0x50, 0x4b, ...b.subarray(2)]),
      'InvalidNpy',
      /bad magic/,
    ],
    ['truncated header', (b: Uint8Array) => b.subarray(0, 40), 'InvalidNpy', /truncated header/],
    [
      'truncated data',
      (b: Uint8Array) => b.subarray(0, b.length - 3),
      'InvalidNpy',
      /truncated data.*needs 24 bytes/,
    ],
    ['trailing bytes', (b: Uint8Array) => Uint8Array.from([...b, 0, 0]), 'InvalidNpy', /2 unexpected bytes/],
    [
      'unknown version',
      (b: Uint8Array) => Uint8Array.from([...b.subarray(0, 6), 9, ...b.subarray(7)]),
      'InvalidNpy',
      /version 9/,
    ],
  ])('%s', (_name, mangle, tag, message) => {
    const good = encodeNpy(arrayOf('float32'));
    let caught: unknown;
    try {
      parseNpy(mangle(good), 'x.npy');
    } catch (err) {
      caught = err;
    }
    expect(isRuntimeError(caught, tag as 'InvalidNpy')).toBe(true);
    expect((caught as Error).message).toMatch(message);
    expect((caught as { hint: string }).hint.length).toBeGreaterThan(10);
  });

  test('numpy-written Fortran order, big-endian, complex and bool files are refused by name', async () => {
    await withTempDir(async (dir) => {
      await python(NUMPY_ODD, [dir]);
      const cases: [string, string, RegExp][] = [
        ['fortran.npy', 'InvalidNpy', /Fortran-order/],
        ['bigendian.npy', 'InvalidNpy', /big-endian dtype '>f4'/],
        ['complex.npy', 'UnsupportedDtype', /unsupported dtype '<c8'/],
        ['bool.npy', 'UnsupportedDtype', /unsupported dtype '\|b1'/],
      ];
      for (const [file, tag, message] of cases) {
        const bytes = await readFile(join(dir, file));
        const err = (() => {
          try {
            parseNpy(new Uint8Array(bytes), file);
          } catch (e) {
            return e;
          }
        })();
        expect(isRuntimeError(err, tag as 'InvalidNpy'), file).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
    });
  });
});
