/**
 * The express app and its lifecycle, built from one ServerConfig (no globals): request ids,
 * JSON access logs, metrics, routes, and the single error handler (server/http-errors.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Catalog } from './catalog.js';
import type { ServerConfig } from './config.js';
import type { Ctx } from './context.js';
import { ServeError } from './errors.js';
import { toHttpError } from './http-errors.js';
import { JobManager } from './jobs/job-manager.js';
import { Limiter } from './limiter.js';
import { bind } from './listen.js';
import { jsonLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { predictRoutes } from './routes/predict.js';
import { sharedMemoryRoutes } from './routes/shared-memory.js';
import { v2Routes } from './routes/v2.js';
import { SharedMemoryRegistry } from './shared-memory.js';
import { ZipCache } from './zip-cache.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** 5xx answers that are the server's state or settings, not failures worth an error log. */
const EXPECTED_5XX = new Set(['NotReady', 'Timeout', 'ExtensionDisabled']);

export function buildApp(ctx: Ctx): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // our own ETags only (zip downloads)
  app.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const t0 = performance.now();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const s = (performance.now() - t0) / 1000;
      ctx.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      ctx.metrics.latency.observe({ method: req.method, route }, s);
      ctx.log.info('request', {
        requestId: id,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        ms: Math.round(s * 1000),
      });
    });
    next();
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  app.use(healthRoutes(ctx));
  app.use(modelRoutes(ctx));
  app.use(v2Routes(ctx));
  app.use(sharedMemoryRoutes(ctx));
  app.use(predictRoutes(ctx));
  app.use(jobRoutes(ctx));
  app.use((req: Request) => {
    throw new ServeError('NotFound', `no route ${req.method} ${req.path}`, {
      hint: 'see GET /openapi.json for the routes',
    });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, retryAfter } = toHttpError(err);
    if (status >= 500 && !EXPECTED_5XX.has(body.code)) {
      ctx.log.error('request failed', {
        requestId: res.getHeader('X-Request-Id'),
        path: req.path,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    // A request body we refused may still be arriving: close the connection instead of reading it.
    if (status === 413) res.setHeader('Connection', 'close');
    res.status(status).json(body);
  });
  return app;
}

export interface RunningServer {
  /** http://host:port, or http+unix://<encoded path> on a Unix socket. */
  readonly url: string;
  /** undefined on a Unix socket. */
  readonly port: number | undefined;
  readonly socket: string | undefined;
  readonly ctx: Ctx;
  /** Stops accepting, interrupts running jobs (they resume on the next start), frees models. */
  close(): Promise<void>;
}

/** Starts the server: catalog, jobs (unfinished ones resume), then listen; ready once all is up. */
export async function startServer(
  config: ServerConfig,
  log: Logger = jsonLogger(config.logLevel),
): Promise<RunningServer> {
  const metrics = createMetrics();
  const catalog = Catalog.scan(config.modelsDir, { workers: config.workers, log });
  const limiter = new Limiter(config.maxConcurrent, config.maxQueue, (active, waiting) => {
    metrics.inflight.set(active);
    metrics.queueDepth.set(waiting);
  });
  const jobs = new JobManager(config, catalog, metrics, log);
  const ctx: Ctx = {
    config,
    catalog,
    metrics,
    log,
    limiter,
    jobs,
    zips: new ZipCache(config.cacheDir),
    shm: new SharedMemoryRegistry(config.shmDir),
    state: { ready: false },
  };
  const app = buildApp(ctx);
  const server = createServer(app);
  const bound = await bind(server, config);
  server.requestTimeout = config.requestTimeoutMs + 10_000; // receiving a request; compute has its own timeout
  server.headersTimeout = 30_000;
  await jobs.init();
  ctx.state.ready = true;
  log.info('listening', { ...bound, models: catalog.ids });
  let closing: Promise<void> | undefined;
  return {
    ...bound,
    ctx,
    close() {
      closing ??= (async () => {
        ctx.state.ready = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await jobs.close();
        server.closeAllConnections();
        await closed;
        await Promise.all([catalog.dispose(), ctx.shm.close()]);
      })();
      return closing;
    },
  };
}
