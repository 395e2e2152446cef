/**
 * The KServe/Triton system shared-memory extension's routes (Triton's HTTP shapes, so
 * tritonclient's register/unregister/status calls work unchanged). Opt-in: without
 * `--shared-memory system` every route answers 501 ExtensionDisabled. Register and unregister
 * need the bearer token when one is configured; status is open, as the other metadata routes.
 */
import express, { type Request, type Response, Router } from 'express';
import { bearerAuth } from '../auth.js';
import type { Ctx } from '../context.js';
import { ServeError } from '../errors.js';
import { parseRegionName, parseRegisterBody } from '../shared-memory.js';

/** ExtensionDisabled unless the server was started with the extension on. */
export function assertSharedMemory(ctx: Ctx): void {
  if (ctx.config.sharedMemory !== 'system') {
    throw new ServeError(
      'ExtensionDisabled',
      'the system shared-memory extension is not enabled on this server',
      {
        hint: 'start the server with --shared-memory system (or EMZOO_SERVE_SHARED_MEMORY=system); only for clients on the same machine, see docs/server.md',
      },
    );
  }
}

export function sharedMemoryRoutes(ctx: Ctx): Router {
  const r = Router();
  const enabled = (_req: Request, _res: Response, next: () => void) => {
    assertSharedMemory(ctx);
    next();
  };
  const guard = bearerAuth(ctx.config.token, 'shared-memory registrations');
  // tritonclient posts the register JSON without a Content-Type: read the bytes, parse them here.
  const raw = express.raw({ type: () => true, limit: '16kb' });
  const base = '/v2/systemsharedmemory';

  r.get(`${base}/status`, enabled, (_req, res) => {
    res.json(ctx.shm.status());
  });
  r.get(`${base}/region/:name/status`, enabled, (req: Request<{ name: string }>, res) => {
    res.json(ctx.shm.status(parseRegionName(req.params.name)));
  });
  r.post(
    `${base}/region/:name/register`,
    enabled,
    guard,
    raw,
    async (req: Request<{ name: string }>, res) => {
      const name = parseRegionName(req.params.name);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await ctx.shm.register(name, parseRegisterBody(body));
      ctx.log.info('shared-memory region registered', { ...ctx.shm.status(name)[0] });
      res.status(200).end(); // Triton answers success with an empty body
    },
  );
  r.post(`${base}/unregister`, enabled, guard, async (_req, res) => {
    await ctx.shm.unregister();
    res.status(200).end();
  });
  r.post(`${base}/region/:name/unregister`, enabled, guard, async (req: Request<{ name: string }>, res) => {
    await ctx.shm.unregister(parseRegionName(req.params.name));
    res.status(200).end();
  });
  return r;
}
