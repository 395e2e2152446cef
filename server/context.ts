/** What every route needs, built once per server (no globals), plus the guard every inference runs under. */
import type { Request, Response } from 'express';
import type { Catalog } from './catalog.js';
import type { ServerConfig } from './config.js';
import { ServeError } from './errors.js';
import type { JobManager } from './jobs/job-manager.js';
import type { Limiter } from './limiter.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { SharedMemoryRegistry } from './shared-memory.js';
import type { ZipCache } from './zip-cache.js';

export interface Ctx {
  readonly config: ServerConfig;
  readonly catalog: Catalog;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly limiter: Limiter;
  readonly jobs: JobManager;
  readonly zips: ZipCache;
  /** Registered system shared-memory regions (empty, and refused, unless config.sharedMemory is 'system'). */
  readonly shm: SharedMemoryRegistry;
  readonly state: { ready: boolean };
}

export function assertReady(ctx: Ctx): void {
  if (!ctx.state.ready) {
    throw new ServeError('NotReady', 'server is starting or shutting down', {
      hint: 'retry after the seconds in Retry-After; GET /health/ready says when it is ready',
      retryAfter: 2,
    });
  }
}

/**
 * Runs an inference under admission control (429 when full), the request timeout (503) and the
 * client's connection (hang up → the run is aborted), and records its duration.
 */
export async function guarded<T>(
  ctx: Ctx,
  req: Request,
  res: Response,
  model: string,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  assertReady(ctx);
  const ctrl = new AbortController();
  const timer = setTimeout(
    () =>
      ctrl.abort(
        new ServeError('Timeout', `request exceeded ${ctx.config.requestTimeoutMs} ms`, {
          hint: 'send smaller inputs, use POST /jobs for volumes, or raise --request-timeout-ms',
          retryAfter: 5,
        }),
      ),
    ctx.config.requestTimeoutMs,
  );
  const onClose = () => {
    if (!res.writableEnded)
      ctrl.abort(
        new ServeError('MalformedRequest', 'client closed the connection', {
          hint: 'keep the connection open until the answer arrives',
        }),
      );
  };
  req.socket.on('close', onClose);
  try {
    return await ctx.limiter.run(async () => {
      const end = ctx.metrics.inference.startTimer({ model });
      try {
        return await fn(ctrl.signal);
      } finally {
        end();
      }
    }, ctrl.signal);
  } catch (err) {
    // An abort surfaces as runtime's Aborted; report why it was aborted instead.
    if (ctrl.signal.aborted && ctrl.signal.reason instanceof ServeError) throw ctrl.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    req.socket.off('close', onClose);
  }
}
