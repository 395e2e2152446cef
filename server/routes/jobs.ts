/** Volume jobs: submit (202), state, server-sent progress events, cancel. Bearer-token protected. */
import express, { Router } from 'express';
import { bearerAuth } from '../auth.js';
import type { Ctx } from '../context.js';
import { assertReady } from '../context.js';
import { ServeError } from '../errors.js';
import { type JobSpec, TERMINAL } from '../jobs/job-store.js';
import { parseRoi } from '../zarr-args.js';

const SPEC_KEYS = ['model', 'input', 'output', 'roi', 'block', 'outputDtype'];

/** The JSON body → a JobSpec (unknown keys rejected), or InvalidArgument naming the field. */
function parseSpec(body: unknown): JobSpec {
  const bad = (m: string) =>
    new ServeError('InvalidArgument', m, {
      hint: 'send {"model": "<id>", "input": "raw.zarr[/path]", "output": "out.zarr", "roi"?: "z0:z1,y0:y1,x0:x1", "block"?: [z,y,x], "outputDtype"?: "float32"|"uint8"} as application/json',
    });
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw bad('job body must be a JSON object');
  const o = body as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !SPEC_KEYS.includes(k));
  if (extra.length > 0) throw bad(`unknown field(s) ${extra.join(', ')}`);
  for (const k of ['model', 'input', 'output'] as const)
    if (typeof o[k] !== 'string' || o[k] === '') throw bad(`'${k}' must be a non-empty string`);
  if (o.roi !== undefined && typeof o.roi !== 'string') throw bad("'roi' must be a string z0:z1,y0:y1,x0:x1");
  if (typeof o.roi === 'string') parseRoi(o.roi);
  if (
    o.block !== undefined &&
    !(Array.isArray(o.block) && o.block.length === 3 && o.block.every((v) => Number.isInteger(v) && v > 0))
  )
    throw bad("'block' must be three positive integers [z, y, x]");
  if (o.outputDtype !== undefined && o.outputDtype !== 'float32' && o.outputDtype !== 'uint8')
    throw bad("'outputDtype' must be 'float32' or 'uint8'");
  return {
    model: o.model as string,
    input: o.input as string,
    output: o.output as string,
    roi: (o.roi as string | undefined) ?? null,
    block: (o.block as number[] | undefined) ?? null,
    outputDtype: (o.outputDtype as 'float32' | 'uint8' | undefined) ?? 'float32',
  };
}

export function jobRoutes(ctx: Ctx): Router {
  const r = Router();
  const guard = bearerAuth(ctx.config.token, 'jobs');
  r.post('/jobs', guard, express.json({ limit: '64kb' }), async (req, res) => {
    assertReady(ctx);
    const rec = await ctx.jobs.submit(parseSpec(req.body));
    res.status(202).setHeader('Location', `/jobs/${rec.id}`).json(rec);
  });
  r.get('/jobs', guard, (_req, res) => {
    res.json({ jobs: ctx.jobs.list() });
  });
  r.get('/jobs/:id', guard, (req, res) => {
    res.json(ctx.jobs.get(String(req.params.id)));
  });
  r.delete('/jobs/:id', guard, async (req, res) => {
    res.json(await ctx.jobs.cancel(String(req.params.id)));
  });
  r.get('/jobs/:id/events', guard, (req, res) => {
    const first = ctx.jobs.get(String(req.params.id));
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    let last = '';
    const send = (rec: typeof first) => {
      const data = JSON.stringify(rec);
      if (data === last) return;
      last = data;
      const event = TERMINAL.has(rec.state) ? 'end' : 'progress';
      res.write(`event: ${event}\ndata: ${data}\n\n`);
      if (event === 'end') close();
    };
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const unsubscribe = ctx.jobs.subscribe(first.id, send);
    const close = () => {
      clearInterval(beat);
      unsubscribe();
      res.end();
    };
    req.on('close', close);
    send(first);
  });
  return r;
}
