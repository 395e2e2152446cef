/** Liveness, readiness (also under /v2 for KServe clients) and Prometheus metrics. */
import { Router } from 'express';
import type { Ctx } from '../context.js';
import { assertReady } from '../context.js';

export function healthRoutes(ctx: Ctx): Router {
  const r = Router();
  const live = (_req: unknown, res: import('express').Response) => {
    res.json({ live: true });
  };
  const ready = (_req: unknown, res: import('express').Response) => {
    assertReady(ctx);
    res.json({ ready: true, models: ctx.catalog.ids.length });
  };
  r.get('/health/live', live);
  r.get('/health/ready', ready);
  r.get('/v2/health/live', live);
  r.get('/v2/health/ready', ready);
  r.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return r;
}
