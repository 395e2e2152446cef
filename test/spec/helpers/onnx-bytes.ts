/** A tiny hand-encoded ONNX ModelProto (ir_version, opset_import, empty graph) for opset tests. */

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function field(num: number, payload: number[]): number[] {
  return [...varint((num << 3) | 2), ...varint(payload.length), ...payload];
}

export function onnxModelBytes(
  opsets: readonly { domain: string; version: number }[],
  irVersion = 8,
): Uint8Array {
  const bytes: number[] = [...varint((1 << 3) | 0), ...varint(irVersion)];
  bytes.push(...field(2, [...new TextEncoder().encode('emzoo-test')]));
  // graph (field 7): a name only
  bytes.push(...field(7, field(2, [...new TextEncoder().encode('g')])));
  for (const o of opsets) {
    const dom = [...new TextEncoder().encode(o.domain)];
    const sub = [...(dom.length ? field(1, dom) : []), ...varint((2 << 3) | 0), ...varint(o.version)];
    bytes.push(...field(8, sub));
  }
  return new Uint8Array(bytes);
}
