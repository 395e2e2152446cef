/**
 * float32 → float16 (toHalfBits, used for FP16 answers) against numpy's astype(float16), and
 * float16 → number (fromHalfBits) against numpy's astype(float64): every half pattern, and float32
 * values around every rounding boundary (subnormals, ties, overflow, inf, NaN) plus random bits.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cropConvert, fromHalfBits, toHalfBits } from '../../runtime/index.js';
import { python } from '../server/helpers.js';

function float32Cases(): Float32Array {
  const bits: number[] = [];
  // Around each half value: the float32 just below/at/above every midpoint between neighbours.
  for (let h = 0; h < 0x7c00; h += 7) {
    const mid = (fromHalfBits(h) + fromHalfBits(h + 1)) / 2;
    const m = new Float32Array([mid]);
    const u = new Uint32Array(m.buffer)[0] as number;
    for (const d of [-1, 0, 1]) bits.push((u + d) >>> 0, ((u + d) | 0x80000000) >>> 0);
  }
  const special = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0x477fe000, 0x477ff000];
  bits.push(...special, 0x33000000, 0x33000001, 0x32ffffff, 0x387fc000, 0x38800000, 0x7f7fffff, 0x00000001);
  let s = 0x9e3779b9;
  for (let i = 0; i < 200_000; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bits.push(s >>> 0);
  }
  return new Float32Array(Uint32Array.from(bits).buffer);
}

test('toHalfBits equals numpy astype(float16) bit for bit (NaN as NaN)', async () => {
  const x = float32Cases();
  const dir = mkdtempSync(join(tmpdir(), 'emzoo-half-'));
  writeFileSync(join(dir, 'x.f32'), x);
  await python(
    `import sys, numpy as np
x = np.fromfile(sys.argv[1] + '/x.f32', dtype=np.float32)
with np.errstate(over='ignore', invalid='ignore'):
    x.astype(np.float16).view(np.uint16).tofile(sys.argv[1] + '/h.u16')`,
    [dir],
  );
  const want = new Uint16Array(new Uint8Array(readFileSync(join(dir, 'h.u16'))).buffer);
  expect(want.length).toBe(x.length);
  const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
  // Both paths: toHalfBits per value, and cropConvert's row conversion (its own fast path).
  const rows = cropConvert(
    { dtype: 'float32', shape: [1, 1, x.length], data: x },
    { start: [0], shape: [x.length], dtype: 'float16' },
  ).data;
  let bad = 0;
  let badRows = 0;
  for (let i = 0; i < x.length; i++) {
    const w = want[i] as number;
    const same = (got: number) => (isNaN16(w) ? isNaN16(got) : got === w);
    if (!same(toHalfBits(x[i] as number))) bad++;
    if (!same(rows[i] as number)) badRows++;
  }
  expect(bad).toBe(0);
  expect(badRows).toBe(0);
  // cropConvert's float16 window (the worker's conversion) uses the same rounding.
  const y = cropConvert(
    { dtype: 'float32', shape: [1, 1, 1, 1, 6], data: x.subarray(1000, 1006) },
    { start: [0, 0, 1], shape: [1, 1, 4], dtype: 'float16' },
  );
  expect(y.dtype).toBe('float16');
  expect(Array.from(y.data)).toEqual(Array.from(want.subarray(1001, 1005)));
}, 60_000);

test('fromHalfBits equals numpy float16 → float64 for all 65536 patterns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emzoo-half-'));
  await python(
    `import sys, numpy as np
np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float64).tofile(sys.argv[1] + '/v.f64')`,
    [dir],
  );
  const want = new Float64Array(new Uint8Array(readFileSync(join(dir, 'v.f64'))).buffer);
  let bad = 0;
  for (let h = 0; h < 65536; h++) {
    const got = fromHalfBits(h);
    const w = want[h] as number;
    if (Number.isNaN(w) ? !Number.isNaN(got) : !Object.is(got, w)) bad++;
  }
  expect(bad).toBe(0);
});
