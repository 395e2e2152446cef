/**
 * Read `opset_import` from ONNX bytes by walking the top level of the ModelProto protobuf
 * (field 8: OperatorSetIdProto {1: domain, 2: version}); everything else, including the graph,
 * is skipped by length. No protobuf library needed.
 */

import { SpecError } from './errors.js';

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) fail('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    fail('varint longer than 10 bytes');
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      // Read the length first: `this.pos += this.varint()` would add to the pre-varint position.
      const len = this.varint();
      this.pos += len;
    } else if (wire === 5) this.pos += 4;
    else fail(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.end) fail('field runs past the end of the message');
  }
}

function fail(message: string): never {
  throw new SpecError(
    'OnnxFormatError',
    `not a readable ONNX model: ${message}`,
    'Export the model again (torch.onnx.export / onnx.save).',
  );
}

export function readOnnxOpsets(bytes: Uint8Array): OpsetImport[] {
  const r = new Reader(bytes);
  const out: OpsetImport[] = [];
  let sawGraph = false;
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 8 && wire === 2) {
      const len = r.varint();
      const sub = new Reader(bytes, r.pos + len);
      sub.pos = r.pos;
      if (sub.end > r.end) fail('opset_import runs past the end');
      let domain = '';
      let version = 0;
      while (sub.pos < sub.end) {
        const k = sub.varint();
        if (k === (1 << 3) + 2) {
          const l = sub.varint();
          domain = new TextDecoder().decode(bytes.subarray(sub.pos, sub.pos + l));
          sub.pos += l;
        } else if (k === (2 << 3) + 0) {
          version = sub.varint();
        } else sub.skip(k % 8);
      }
      out.push({ domain, version });
      r.pos += len;
    } else {
      if (field === 7 && wire === 2) sawGraph = true;
      r.skip(wire);
    }
  }
  if (out.length === 0 && !sawGraph) fail('no graph and no opset_import found');
  return out;
}

/** The default-domain ('' or 'ai.onnx') opset, which is what `opset_version` describes. */
export function defaultOpset(opsets: readonly OpsetImport[]): number | undefined {
  return opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
}
