/**
 * POST /predict/{id}: an .npy of raw intensities ([z,y,x] or [c,z,y,x]) in, the bundle's
 * preprocessing applied server-side, an .npy float32 out: [C, z, y, x] of the input's size
 * (?padding=zero|reflect|edge, default reflect) or ?padding=valid (shrunk by the halo);
 * class models answer [C] logits. ?dtype=float16 answers half floats; ?dtype=uint8 answers
 * value·255 (rounded, clamped) as uint8, for models whose channels all lie in [0, 1].
 */
import express, { Router } from 'express';
import { encodeNpy, type NdArray, parseNpy } from '../../runtime/index.js';
import type { Ctx } from '../context.js';
import { guarded } from '../context.js';
import { ServeError } from '../errors.js';
import { inferBatch, parseOutputDatatype, parseOutputMode } from '../infer.js';
import { OUT_DATATYPE } from '../kserve-codec.js';

export function predictRoutes(ctx: Ctx): Router {
  const r = Router();
  const raw = express.raw({ type: () => true, limit: ctx.config.maxBodyBytes });
  r.post('/predict/:id', raw, async (req, res) => {
    const id = req.params.id;
    const entry = ctx.catalog.get(id);
    const q = req.query.padding;
    const mode = parseOutputMode(q === undefined ? 'reflect' : q, 'query padding');
    const dq = req.query.dtype;
    if (dq !== undefined && !(typeof dq === 'string' && Object.hasOwn(OUT_DATATYPE, dq))) {
      throw new ServeError('InvalidArgument', `query dtype ${JSON.stringify(dq)} is not an output dtype`, {
        hint: 'use float32, float16 or uint8 (value·255, rounded and clamped)',
      });
    }
    const outputDtype = parseOutputDatatype(
      OUT_DATATYPE[(dq ?? 'float32') as keyof typeof OUT_DATATYPE],
      'query dtype',
      entry,
    );
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const x = parseNpy(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 'request body');
    const cIn = entry.bundle.input.channel_names.length;
    let batched: NdArray;
    if (x.shape.length === 3 && cIn === 1) batched = { ...x, shape: [1, 1, ...x.shape] };
    else if (x.shape.length === 4) batched = { ...x, shape: [1, ...x.shape] };
    else {
      throw new ServeError(
        'InvalidTensor',
        `.npy shape (${x.shape.join(', ')}) is not ${cIn === 1 ? '(z, y, x) or ' : ''}(${cIn}, z, y, x)`,
        {
          hint: 'save the raw volume with numpy.save(path, arr) with axes z, y, x (channels first if any)',
        },
      );
    }
    if (x.dtype === 'int64' || x.dtype === 'uint64' || x.dtype === 'float16') {
      throw new ServeError('InvalidTensor', `.npy dtype ${x.dtype} is not supported`, {
        hint: 'convert with arr.astype(np.uint8) or arr.astype(np.float32)',
      });
    }
    const out = await guarded(ctx, req, res, id, async (signal) =>
      inferBatch(entry, await ctx.catalog.backend(id), batched, {
        mode,
        outputDtype,
        preprocess: true,
        memoryBudgetBytes: ctx.config.memoryBudgetBytes,
        signal,
        onBlock: () => ctx.metrics.blocks.inc({ model: id, source: 'request' }),
      }),
    );
    res.type('application/octet-stream').send(Buffer.from(encodeNpy({ ...out, shape: out.shape.slice(1) })));
  });
  return r;
}
