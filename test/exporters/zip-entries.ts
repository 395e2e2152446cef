/**
 * Reads a classic zip's central directory by hand (independent of the writer): entry names,
 * compression methods and sizes. zip64 archives are read in zip64.test.ts with Python's zipfile.
 */
export function centralDirectory(
  zip: Uint8Array,
): { name: string; method: number; size: number; compressedSize: number }[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no end of central directory record');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out: { name: string; method: number; size: number; compressedSize: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = dv.getUint16(p + 10, true);
    const compressedSize = dv.getUint32(p + 20, true);
    const size = dv.getUint32(p + 24, true);
    const n = dv.getUint16(p + 28, true);
    const extra = dv.getUint16(p + 30, true);
    const comment = dv.getUint16(p + 32, true);
    out.push({
      name: new TextDecoder().decode(zip.subarray(p + 46, p + 46 + n)),
      method,
      size,
      compressedSize,
    });
    p += 46 + n + extra + comment;
  }
  return out;
}
