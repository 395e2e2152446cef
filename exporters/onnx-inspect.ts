/**
 * ONNX bytes → what a user wants to know before packaging: inputs/outputs (name, element type,
 * shape with symbolic dims), opsets, IR version, producer, metadata. A minimal protobuf walk of
 * ModelProto; weights are skipped by length, never decoded.
 */
import { ExportError } from './errors.js';

export interface OnnxTensorInfo {
  readonly name: string;
  readonly elemType: string;
  readonly shape: readonly (number | string)[];
}

export interface OnnxInfo {
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly inputs: readonly OnnxTensorInfo[];
  readonly outputs: readonly OnnxTensorInfo[];
  readonly nodeCount: number;
  readonly initializerCount: number;
  readonly metadata: Readonly<Record<string, string>>;
}

const ELEM = [
  'undefined',
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
];

class Bad extends Error {}

/** Iterates the fields of one message: (field number, wire type, varint value | byte range). */
function* fields(buf: Uint8Array, start: number, end: number): Generator<[number, number, number, number]> {
  let pos = start;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Bad('truncated varint');
      const b = buf[pos++] as number;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new Bad('varint too long');
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield [field, wire, varint(), 0];
    else if (wire === 2) {
      const len = varint();
      if (pos + len > end) throw new Bad(`field ${field} runs past its message`);
      yield [field, wire, pos, pos + len];
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Bad(`unsupported wire type ${wire}`);
  }
  if (pos !== end) throw new Bad('message overruns its length');
}

const text = (buf: Uint8Array, a: number, b: number): string => new TextDecoder().decode(buf.subarray(a, b));

function valueInfo(buf: Uint8Array, a: number, b: number): OnnxTensorInfo {
  let name = '';
  let elemType = 'unknown';
  const shape: (number | string)[] = [];
  for (const [f, w, x, y] of fields(buf, a, b)) {
    if (f === 1 && w === 2) name = text(buf, x, y);
    if (f === 2 && w === 2)
      for (const [tf, tw, tx, ty] of fields(buf, x, y))
        if (tf === 1 && tw === 2)
          for (const [sf, sw, sx, sy] of fields(buf, tx, ty)) {
            if (sf === 1 && sw === 0) elemType = ELEM[sx] ?? `type${sx}`;
            if (sf === 2 && sw === 2)
              for (const [df, dw, dx, dy] of fields(buf, sx, sy))
                if (df === 1 && dw === 2) {
                  let dim: number | string = '?';
                  for (const [vf, vw, vx, vy] of fields(buf, dx, dy)) {
                    if (vf === 1 && vw === 0) dim = vx;
                    if (vf === 2 && vw === 2) dim = text(buf, vx, vy);
                  }
                  shape.push(dim);
                }
          }
  }
  return { name, elemType, shape };
}

export function inspectOnnx(bytes: Uint8Array, what = 'model.onnx'): OnnxInfo {
  try {
    let irVersion = 0;
    let producer = '';
    let producerVersion = '';
    const opsets: { domain: string; version: number }[] = [];
    const metadata: Record<string, string> = {};
    const inputs: OnnxTensorInfo[] = [];
    const outputs: OnnxTensorInfo[] = [];
    const initNames = new Set<string>();
    let nodeCount = 0;
    let sawGraph = false;
    for (const [f, w, a, b] of fields(bytes, 0, bytes.length)) {
      if (f === 1 && w === 0) irVersion = a;
      else if (f === 2 && w === 2) producer = text(bytes, a, b);
      else if (f === 3 && w === 2) producerVersion = text(bytes, a, b);
      else if (f === 8 && w === 2) {
        let domain = '';
        let version = 0;
        for (const [of, ow, ox, oy] of fields(bytes, a, b)) {
          if (of === 1 && ow === 2) domain = text(bytes, ox, oy);
          if (of === 2 && ow === 0) version = ox;
        }
        opsets.push({ domain, version });
      } else if (f === 14 && w === 2) {
        let k = '';
        let v = '';
        for (const [mf, mw, mx, my] of fields(bytes, a, b)) {
          if (mf === 1 && mw === 2) k = text(bytes, mx, my);
          if (mf === 2 && mw === 2) v = text(bytes, mx, my);
        }
        metadata[k] = v;
      } else if (f === 7 && w === 2) {
        sawGraph = true;
        for (const [gf, gw, gx, gy] of fields(bytes, a, b)) {
          if (gf === 1 && gw === 2) nodeCount++;
          else if (gf === 5 && gw === 2) {
            for (const [tf, tw, tx, ty] of fields(bytes, gx, gy))
              if (tf === 8 && tw === 2) initNames.add(text(bytes, tx, ty));
          } else if (gf === 11 && gw === 2) inputs.push(valueInfo(bytes, gx, gy));
          else if (gf === 12 && gw === 2) outputs.push(valueInfo(bytes, gx, gy));
        }
      }
    }
    if (!sawGraph) throw new Bad('no graph');
    const realInputs = inputs.filter((i) => !initNames.has(i.name)); // IR < 4 lists weights as inputs
    return {
      irVersion,
      producer: producerVersion ? `${producer} ${producerVersion}` : producer,
      opsets,
      inputs: realInputs,
      outputs,
      nodeCount,
      initializerCount: initNames.size,
      metadata,
    };
  } catch (err) {
    if (!(err instanceof Bad)) throw err;
    throw new ExportError('OnnxInvalid', `${what} is not a readable ONNX model: ${err.message}`, {
      hint: 'pass a .onnx file written by torch.onnx.export / onnx.save (or a zip containing one)',
    });
  }
}

/** The default-domain opset, the one rdf.yaml's opset_version describes. */
export function defaultOpset(info: OnnxInfo): number | undefined {
  return info.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
}
