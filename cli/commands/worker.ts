/**
 * `worker`: a stateless block worker for the Redis queue. Takes blocks of any active job (model,
 * input, output and plan come from the job record), writes them, marks them done; runs until
 * SIGINT/SIGTERM (or, with --until-idle, until no job is left). Kill it at any time: its leases
 * expire and other workers redo those blocks.
 */
import { Command } from 'commander';
import { ExportError } from '../../exporters/index.js';
import { connectRedis, isQueueError, runRedisWorker } from '../../runtime/queue/index.js';
import type { Io } from '../io.js';
import { asCliError } from './cli-errors.js';

interface WorkerOpts {
  redis?: string;
  concurrency: string;
  threads: string;
  pollMs: string;
  device?: string;
  untilIdle?: boolean;
  verbose?: boolean;
}

const positiveInt = (v: string, flag: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new ExportError('InvalidArgument', `${flag} must be a positive integer, got '${v}'`, {
      hint: `e.g. ${flag} 2`,
    });
  }
  return n;
};

/** Queue errors → the CLI's tagged errors (exit 2), keeping their tag in the message. */
export function asWorkerCliError(err: unknown): unknown {
  if (isQueueError(err)) {
    return new ExportError('InvalidArgument', `[${err._tag}] ${err.message}`, { hint: err.hint, cause: err });
  }
  return asCliError(err);
}

export function workerCommand(io: Io): Command {
  return new Command('worker')
    .description(
      'process blocks of jobs queued in Redis (start any number, on any host that sees the same paths)',
    )
    .option('--redis <url>', 'Redis URL (default: EMZOO_REDIS_URL)')
    .option('--concurrency <n>', 'blocks in flight in this worker', '2')
    .option('--threads <n>', 'onnxruntime worker threads per model', '1')
    .option('--poll-ms <n>', 'how often an idle worker looks for work', '1000')
    .option('--device <cpu|cuda>', "execution provider (cuda: a GPU host; fails clearly if CUDA can't load)")
    .option('--until-idle', 'exit once no job has blocks left (batch use) instead of waiting for new jobs')
    .option('-v, --verbose', 'log every block')
    .addHelpText(
      'after',
      `
Jobs are queued by 'bioimage-export predict --queue redis://...'. Each log line on stderr is one
JSON object (event: start | job | block | job-pass | job-error | stop).

Example:
  $ bioimage-export worker --redis redis://queue-host:6379 --concurrency 2 --threads 4`,
    )
    .action(async (opts: WorkerOpts) => {
      const url = opts.redis ?? process.env.EMZOO_REDIS_URL;
      try {
        if (!url) {
          throw new ExportError('InvalidArgument', 'no Redis URL', {
            hint: 'pass --redis redis://host:6379 or set EMZOO_REDIS_URL',
          });
        }
        const concurrency = positiveInt(opts.concurrency, '--concurrency');
        const threads = positiveInt(opts.threads, '--threads');
        const pollMs = positiveInt(opts.pollMs, '--poll-ms');
        if (opts.device !== undefined && opts.device !== 'cpu' && opts.device !== 'cuda') {
          throw new ExportError('InvalidArgument', `--device must be cpu or cuda, got '${opts.device}'`, {
            hint: 'use --device cuda on GPU hosts (onnxruntime-node with CUDA 12 libraries), else leave it out',
          });
        }
        const device = opts.device as 'cpu' | 'cuda' | undefined;
        const redis = await connectRedis(url);
        const ctrl = new AbortController();
        const stop = () => ctrl.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const log = (e: Record<string, unknown>) => {
          if (e.event === 'block' && !opts.verbose) return;
          io.err(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
        };
        try {
          log({ event: 'start', pid: process.pid, concurrency, threads });
          const r = await runRedisWorker(redis, {
            concurrency,
            threads,
            pollMs,
            device,
            untilIdle: opts.untilIdle === true,
            signal: ctrl.signal,
            log,
          });
          log({ event: 'stop', worker: r.workerId, blocks: r.blocks });
          io.out(`worker ${r.workerId}: ${r.blocks} blocks\n`);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          redis.disconnect();
        }
      } catch (err) {
        throw asWorkerCliError(err);
      }
    });
}
