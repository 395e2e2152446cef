/**
 * KServe v2 / Open Inference Protocol (HTTP/REST) with the binary tensor data extension, so
 * Triton's client libraries work unchanged. The served model is the bundle's: raw intensities in
 * (its preprocessing applied server-side unless `parameters.preprocessing` is false), inputs of any
 * size tiled; `parameters.output_mode` = valid (default) | zero | reflect | edge;
 * `parameters.output_datatype` = FP32 (default) | FP16 | UINT8 (value·255, for [0, 1] channels).
 */
import express, { Router } from 'express';
import type { NdArray } from '../../runtime/index.js';
import { checkBearer } from '../auth.js';
import type { Ctx } from '../context.js';
import { assertReady, guarded } from '../context.js';
import { ServeError } from '../errors.js';
import { inferBatch, parseOutputDatatype, parseOutputMode } from '../infer.js';
import { encodeInferResponse, OUT_DATATYPE, parseInferRequest, tensorFromBytes } from '../kserve-codec.js';
import { v2Metadata } from '../model-facts.js';
import { assertSharedMemory } from './shared-memory.js';

const VERSION = '0.1.0';

export function v2Routes(ctx: Ctx): Router {
  const r = Router();
  r.get('/v2', (_req, res) => {
    const extensions = ['binary_tensor_data'];
    if (ctx.config.sharedMemory === 'system') extensions.push('system_shared_memory');
    res.json({ name: 'emzoo', version: VERSION, extensions });
  });
  const version = (v: string | undefined) => {
    if (v !== undefined && v !== '1') {
      throw new ServeError('ModelNotFound', `model version '${v}' does not exist`, {
        hint: "every model has one version, '1'",
      });
    }
  };
  const meta = (req: express.Request<{ id: string; v?: string }>, res: express.Response) => {
    version(req.params.v);
    res.json(v2Metadata(req.params.id, ctx.catalog.get(req.params.id).bundle));
  };
  r.get('/v2/models/:id', meta);
  r.get('/v2/models/:id/versions/:v', meta);
  const ready = (req: express.Request<{ id: string; v?: string }>, res: express.Response) => {
    version(req.params.v);
    ctx.catalog.get(req.params.id);
    assertReady(ctx);
    res.json({ name: req.params.id, ready: true });
  };
  r.get('/v2/models/:id/ready', ready);
  r.get('/v2/models/:id/versions/:v/ready', ready);

  const raw = express.raw({ type: () => true, limit: ctx.config.maxBodyBytes });
  const infer = async (req: express.Request<{ id: string; v?: string }>, res: express.Response) => {
    version(req.params.v);
    const id = req.params.id;
    const entry = ctx.catalog.get(id);
    const b = entry.bundle;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = req.headers['inference-header-content-length'];
    const parsed = parseInferRequest(body, Array.isArray(header) ? header[0] : header);
    const input = parsed.inputs.find((i) => i.name === b.input.name);
    if (!input || parsed.inputs.length !== 1) {
      throw new ServeError('InvalidTensor', `model '${id}' takes exactly one input named '${b.input.name}'`, {
        hint: `send inputs: [{"name": "${b.input.name}", "datatype": "FP32", "shape": [1, ${b.input.channel_names.length}, z, y, x], ...}]`,
      });
    }
    for (const o of parsed.outputs) {
      if (o.name !== b.output.name) {
        throw new ServeError('InvalidTensor', `model '${id}' has no output '${o.name}'`, {
          hint: `its one output is '${b.output.name}'`,
        });
      }
    }
    const mode = parseOutputMode(parsed.parameters.output_mode, 'parameters.output_mode');
    const outputDtype = parseOutputDatatype(
      parsed.parameters.output_datatype,
      'parameters.output_datatype',
      entry,
    );
    const pre = parsed.parameters.preprocessing;
    if (pre !== undefined && typeof pre !== 'boolean') {
      throw new ServeError('InvalidArgument', 'parameters.preprocessing must be true or false', {
        hint: 'false: the tensor is already normalised (network space); true (default): raw intensities',
      });
    }
    // Shared memory: every region checked before any compute; the input's bytes read from it.
    const outShm = parsed.outputs[0]?.shm;
    const inShm = 'shm' in input.tensor ? input.tensor : undefined;
    if (inShm || outShm) {
      assertSharedMemory(ctx);
      // Reading or writing a region is as sensitive as registering one.
      checkBearer(ctx.config.token, req, res, 'infer requests that use shared memory');
    }
    if (inShm) ctx.shm.check(inShm.shm, `input '${input.name}'`);
    if (outShm) ctx.shm.check(outShm, `output '${b.output.name}'`);
    const x = inShm
      ? tensorFromBytes(inShm, await ctx.shm.read(inShm.shm, `input '${input.name}'`))
      : (input.tensor as NdArray);
    const out = await guarded(ctx, req, res, id, async (signal) => {
      const backend = await ctx.catalog.backend(id);
      return inferBatch(entry, backend, x, {
        mode,
        outputDtype,
        preprocess: pre !== false,
        memoryBudgetBytes: ctx.config.memoryBudgetBytes,
        signal,
        onBlock: () => ctx.metrics.blocks.inc({ model: id, source: 'request' }),
      });
    });
    if (outShm) {
      const bytes = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
      if (outShm.byteSize < bytes.byteLength) {
        throw new ServeError(
          'InvalidArgument',
          `output '${b.output.name}' [${out.shape}] ${OUT_DATATYPE[out.dtype]} needs ${bytes.byteLength} bytes; shared_memory_byte_size is ${outShm.byteSize}`,
          {
            hint: `set the output's shared_memory_byte_size to ${bytes.byteLength} (a region at least that large)`,
          },
        );
      }
      await ctx.shm.write(outShm, bytes, `output '${b.output.name}'`);
    }
    const binary = outShm ? false : (parsed.outputs[0]?.binary ?? parsed.binaryDefault);
    const enc = encodeInferResponse(
      { model_name: id, model_version: '1', ...(parsed.id === undefined ? {} : { id: parsed.id }) },
      [{ name: b.output.name, tensor: out, binary, ...(outShm ? { shm: outShm } : {}) }],
    );
    if (enc.headerLength !== undefined)
      res.setHeader('Inference-Header-Content-Length', String(enc.headerLength));
    // Written part by part (header, then views of the tensors): res.send would concatenate and
    // hash (ETag) a body of tens of MB. Backpressure is left to the socket's buffer.
    res.status(200).type(enc.contentType).setHeader('Content-Length', String(enc.byteLength));
    for (const part of enc.parts) res.write(part);
    res.end();
  };
  r.post('/v2/models/:id/infer', raw, infer);
  r.post('/v2/models/:id/versions/:v/infer', raw, infer);
  return r;
}
