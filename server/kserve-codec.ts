/**
 * KServe v2 / Open Inference Protocol infer bodies, parsed once at the edge: a JSON request, or a
 * JSON header followed by raw tensor bytes (binary tensor data extension: the
 * `Inference-Header-Content-Length` header says where the JSON ends, each binary input carries
 * `parameters.binary_data_size`). Responses are encoded the same two ways.
 */
import { type DType, fromHalfBits, type NdArray } from '../runtime/index.js';
import { ServeError } from './errors.js';
import { parseShmParams, type ShmRef } from './shared-memory.js';

export const V2_DTYPES = {
  FP32: 'float32',
  FP64: 'float64',
  UINT8: 'uint8',
  UINT16: 'uint16',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
} as const satisfies Record<string, DType>;
export type V2Datatype = keyof typeof V2_DTYPES;

const CTOR = {
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
} as const;

type Params = Readonly<Record<string, string | number | boolean>>;

/** An input whose bytes are in a system shared-memory region (read by the route, not the parser). */
export interface ShmTensor {
  readonly dtype: DType;
  readonly shape: number[];
  readonly shm: ShmRef;
}

export interface InferInput {
  readonly name: string;
  readonly datatype: V2Datatype;
  /** The tensor from the request body, or where its bytes are in shared memory. */
  readonly tensor: NdArray | ShmTensor;
}

export interface RequestedOutput {
  readonly name: string;
  /** `parameters.binary_data`, if given. */
  readonly binary: boolean | undefined;
  /** `parameters.shared_memory_*`: the output is written into that region instead of the body. */
  readonly shm: ShmRef | undefined;
}

/** The tensor of `t` over `bytes`, a buffer of its own (offset 0: aligned for any element type). */
export function tensorFromBytes(t: ShmTensor, bytes: Uint8Array<ArrayBuffer>): NdArray {
  const Ctor = CTOR[t.dtype as keyof typeof CTOR];
  return {
    dtype: t.dtype,
    shape: t.shape,
    data: new Ctor(
      bytes.buffer,
      bytes.byteOffset,
      bytes.byteLength / Ctor.BYTES_PER_ELEMENT,
    ) as NdArray['data'],
  };
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly parameters: Params;
  readonly inputs: readonly InferInput[];
  /** Requested outputs (empty: all) and whether each is wanted as binary. */
  readonly outputs: readonly RequestedOutput[];
  /** `binary_data_output` request parameter, or the request itself came with binary inputs. */
  readonly binaryDefault: boolean;
}

const MAX_HEADER = 16 * 2 ** 20; // a JSON header beyond this is an attack or a bug, not a tensor

const bad = (message: string, hint: string) => new ServeError('MalformedRequest', message, { hint });
const SPEC_HINT =
  'send {"inputs":[{"name","shape","datatype","data"}]} as in the KServe v2 protocol, or use tritonclient';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function params(v: unknown, where: string): Params {
  if (v === undefined) return {};
  if (!isRecord(v) || !Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x))) {
    throw bad(`${where}.parameters must be an object of string/number/boolean values`, SPEC_HINT);
  }
  return v as Params;
}

/** Flattens nested JSON number arrays (row-major) into `out`; returns elements written. */
function flatten(v: unknown, out: number[], limit: number): void {
  if (typeof v === 'number') {
    if (out.length >= limit) throw bad('data has more elements than the shape', SPEC_HINT);
    out.push(v);
    return;
  }
  if (typeof v === 'boolean') {
    out.push(v ? 1 : 0);
    return;
  }
  if (!Array.isArray(v)) throw bad('data must hold numbers (flat or nested arrays)', SPEC_HINT);
  for (const x of v) flatten(x, out, limit);
}

function splitBody(
  body: Buffer,
  headerLength: string | undefined,
): { json: unknown; binary: Buffer | undefined } {
  let jsonBytes = body;
  let binary: Buffer | undefined;
  if (headerLength !== undefined) {
    const n = /^\d{1,12}$/.test(headerLength.trim()) ? Number(headerLength) : Number.NaN;
    if (!Number.isInteger(n) || n > body.length || n > MAX_HEADER) {
      throw bad(
        `Inference-Header-Content-Length ${JSON.stringify(headerLength)} is not a byte count within the body (${body.length} bytes)`,
        'set it to the byte length of the JSON part that starts the body',
      );
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  } else if (body.length > MAX_HEADER) {
    throw bad(
      `a JSON infer request of ${body.length} bytes is too large to parse`,
      'send large tensors with the binary tensor data extension (Inference-Header-Content-Length)',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString('utf8'));
  } catch (err) {
    throw bad(`infer request JSON does not parse: ${(err as Error).message}`, SPEC_HINT);
  }
  return { json, binary };
}

export function parseInferRequest(body: Buffer, headerLength: string | undefined): InferRequest {
  const { json, binary } = splitBody(body, headerLength);
  if (!isRecord(json)) throw bad('infer request must be a JSON object', SPEC_HINT);
  const id = json.id;
  if (id !== undefined && typeof id !== 'string') throw bad('id must be a string', SPEC_HINT);
  const parameters = params(json.parameters, 'request');
  if (!Array.isArray(json.inputs) || json.inputs.length === 0)
    throw bad('inputs must be a non-empty array', SPEC_HINT);
  let offset = 0;
  let anyBinary = false;
  const inputs = json.inputs.map((raw: unknown, i: number): InferInput => {
    const where = `inputs[${i}]`;
    if (!isRecord(raw)) throw bad(`${where} must be an object`, SPEC_HINT);
    const { name, shape, datatype } = raw;
    if (typeof name !== 'string' || name === '') throw bad(`${where}.name must be a string`, SPEC_HINT);
    if (
      !Array.isArray(shape) ||
      shape.length > 8 ||
      !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31)
    ) {
      throw bad(`${where}.shape must be a list of at most 8 non-negative integers`, SPEC_HINT);
    }
    if (typeof datatype !== 'string' || !(datatype in V2_DTYPES)) {
      throw new ServeError(
        'InvalidTensor',
        `${where}.datatype ${JSON.stringify(datatype)} is not supported`,
        {
          hint: `use one of ${Object.keys(V2_DTYPES).join(', ')} (FP32 preferred)`,
        },
      );
    }
    const dtype = V2_DTYPES[datatype as V2Datatype];
    const Ctor = CTOR[dtype];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (count > 2 ** 31) throw bad(`${where}.shape has too many elements`, SPEC_HINT);
    const p = params(raw.parameters, where);
    const size = p.binary_data_size;
    const shm = parseShmParams(p, where);
    let data: NdArray['data'];
    if (shm !== undefined) {
      if (size !== undefined || raw.data !== undefined) {
        throw bad(
          `${where} has shared_memory_region and also ${size !== undefined ? 'binary_data_size' : 'data'}`,
          'send the tensor one way: in the body, or in a registered shared-memory region',
        );
      }
      const want = count * Ctor.BYTES_PER_ELEMENT;
      if (shm.byteSize !== want) {
        throw new ServeError(
          'InvalidArgument',
          `${where}.parameters.shared_memory_byte_size ${shm.byteSize} ≠ ${want} (${count} elements × ${Ctor.BYTES_PER_ELEMENT} bytes of ${datatype})`,
          {
            hint: `set shared_memory_byte_size to ${want}, the byte size of shape [${shape}] in ${datatype}`,
          },
        );
      }
      return { name, datatype: datatype as V2Datatype, tensor: { dtype, shape: shape as number[], shm } };
    }
    if (size !== undefined) {
      anyBinary = true;
      if (binary === undefined) {
        throw bad(
          `${where} has binary_data_size but the request has no Inference-Header-Content-Length header`,
          'send the header with the JSON length, then the raw tensor bytes',
        );
      }
      if (typeof size !== 'number' || !Number.isInteger(size) || size !== count * Ctor.BYTES_PER_ELEMENT) {
        throw bad(
          `${where}.parameters.binary_data_size ${size} ≠ ${count} elements × ${Ctor.BYTES_PER_ELEMENT} bytes`,
          'binary_data_size must equal the byte size of the shape in the datatype (little-endian, row-major)',
        );
      }
      if (offset + size > binary.length) {
        throw bad(
          `binary data ends after ${binary.length} bytes; ${where} needs bytes ${offset}..${offset + size}`,
          'append every binary input after the JSON, in input order',
        );
      }
      const bytes = binary.subarray(offset, offset + size);
      offset += size;
      // Copy: the body buffer's offset may not be aligned for the element type.
      const copy = new Uint8Array(size);
      copy.set(bytes);
      data = new Ctor(copy.buffer) as NdArray['data'];
    } else {
      const flat: number[] = [];
      flatten(raw.data, flat, count);
      if (flat.length !== count) {
        throw bad(`${where}.data has ${flat.length} elements, shape [${shape}] needs ${count}`, SPEC_HINT);
      }
      data = Ctor.from(flat);
    }
    return { name, datatype: datatype as V2Datatype, tensor: { dtype, shape: shape as number[], data } };
  });
  if (binary !== undefined && offset !== binary.length) {
    throw bad(
      `${binary.length - offset} bytes after the JSON header are not claimed by any input`,
      'make Inference-Header-Content-Length and each binary_data_size add up to the body length',
    );
  }
  const outputs = json.outputs === undefined ? [] : json.outputs;
  if (!Array.isArray(outputs)) throw bad('outputs must be an array', SPEC_HINT);
  const requested = outputs.map((o: unknown, i: number) => {
    if (!isRecord(o) || typeof o.name !== 'string')
      throw bad(`outputs[${i}].name must be a string`, SPEC_HINT);
    const p = params(o.parameters, `outputs[${i}]`);
    const b = p.binary_data;
    const shm = parseShmParams(p, `outputs[${i}]`);
    return { name: o.name, binary: shm === undefined && typeof b === 'boolean' ? b : undefined, shm };
  });
  const bdo = parameters.binary_data_output;
  return {
    id: id as string | undefined,
    parameters,
    inputs,
    outputs: requested,
    binaryDefault: typeof bdo === 'boolean' ? bdo : anyBinary && requested.length === 0,
  };
}

export interface InferOutput {
  readonly name: string;
  readonly tensor: NdArray<'float32' | 'uint8' | 'float16'>;
  readonly binary: boolean;
  /** Set when the tensor was written into shared memory: the entry carries these parameters, no data. */
  readonly shm?: ShmRef;
}

/** An encoded response: the parts in order (JSON header, then each binary tensor as a view, not a copy). */
export interface EncodedResponse {
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
  readonly headerLength: number | undefined;
  readonly contentType: string;
}

/** The response parameters of an output written to shared memory (as Triton: the bytes written). */
function shmParameters(ref: ShmRef, written: number): Params {
  return {
    shared_memory_region: ref.region,
    shared_memory_byte_size: written,
    ...(ref.offset === 0 ? {} : { shared_memory_offset: ref.offset }),
  };
}

/** The KServe datatype name of each dtype an answer can have. */
export const OUT_DATATYPE = { float32: 'FP32', uint8: 'UINT8', float16: 'FP16' } as const;

/** JSON tensor data: numbers (half floats travel as raw bits in a Uint16Array, decoded here). */
function jsonNumbers(t: InferOutput['tensor']): number[] {
  return t.dtype === 'float16' ? Array.from(t.data, fromHalfBits) : Array.from(t.data);
}

/** Binary tensors start at a multiple of this in the body, so clients can view them as FP32/FP64 in place. */
const BINARY_ALIGN = 8;

/**
 * Encodes the response: plain JSON, or a JSON header + raw bytes when any output is binary. The
 * tensor bytes are not copied: `parts` holds views of the output arrays, to be written one after
 * the other. The JSON header is padded with spaces (still valid JSON) to a multiple of 8 bytes.
 */
export function encodeInferResponse(
  head: { model_name: string; model_version?: string; id?: string; parameters?: Params },
  outputs: readonly InferOutput[],
): EncodedResponse {
  const json = {
    ...head,
    outputs: outputs.map((o) => ({
      name: o.name,
      datatype: OUT_DATATYPE[o.tensor.dtype],
      shape: o.tensor.shape,
      ...(o.shm
        ? { parameters: shmParameters(o.shm, o.tensor.data.byteLength) }
        : o.binary
          ? { parameters: { binary_data_size: o.tensor.data.byteLength } }
          : { data: jsonNumbers(o.tensor) }),
    })),
  };
  const text = JSON.stringify(json);
  if (!outputs.some((o) => o.binary && !o.shm)) {
    const body = Buffer.from(text, 'utf8');
    return {
      parts: [body],
      byteLength: body.length,
      headerLength: undefined,
      contentType: 'application/json',
    };
  }
  const jsonLength = Buffer.byteLength(text, 'utf8');
  const padded = Math.ceil(jsonLength / BINARY_ALIGN) * BINARY_ALIGN;
  const header = Buffer.alloc(padded, 0x20);
  header.write(text, 0, 'utf8');
  const parts: Uint8Array[] = [header];
  let byteLength = padded;
  for (const o of outputs) {
    if (!o.binary || o.shm) continue;
    const d = o.tensor.data;
    parts.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    byteLength += d.byteLength;
  }
  return { parts, byteLength, headerLength: padded, contentType: 'application/octet-stream' };
}
