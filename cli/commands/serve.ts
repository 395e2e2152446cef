/** `serve`: the HTTP server (server/) until SIGINT/SIGTERM; running jobs resume on the next start. */
import { Command } from 'commander';
import {
  type ConfigInput,
  configFromEnv,
  configFromFile,
  resolveConfig,
  startServer,
} from '../../server/index.js';
import type { Io } from '../io.js';
import { asCliError } from './cli-errors.js';

interface ServeOpts {
  config?: string;
  port?: string;
  host?: string;
  socket?: string;
  socketMode?: string;
  modelsDir?: string;
  dataRoot?: string;
  jobsDir?: string;
  token?: string;
  maxBodyMb?: string;
  maxConcurrent?: string;
  maxQueue?: string;
  requestTimeoutMs?: string;
  workers?: string;
  logLevel?: string;
  sharedMemory?: string;
  shmDir?: string;
}

function flagLayer(o: ServeOpts): ConfigInput {
  return {
    port: o.port,
    host: o.host,
    socket: o.socket,
    socketMode: o.socketMode,
    modelsDir: o.modelsDir,
    dataRoot: o.dataRoot,
    jobsDir: o.jobsDir,
    token: o.token,
    maxBodyBytes: o.maxBodyMb === undefined ? undefined : String(Math.round(Number(o.maxBodyMb) * 2 ** 20)),
    maxConcurrent: o.maxConcurrent,
    maxQueue: o.maxQueue,
    requestTimeoutMs: o.requestTimeoutMs,
    workers: o.workers,
    logLevel: o.logLevel,
    sharedMemory: o.sharedMemory,
    shmDir: o.shmDir,
  };
}

export function serveCommand(io: Io): Command {
  return new Command('serve')
    .description(
      'serve bundles over HTTP: catalog + zips, KServe v2 inference, .npy predict, volume jobs, metrics',
    )
    .option('--config <file>', 'JSON or YAML file with server settings (flags and EMZOO_SERVE_* override it)')
    .option('--port <n>', 'port (0: any free port)', undefined)
    .option('--host <host>', 'interface to bind (default 127.0.0.1; a public one needs --token)')
    .option(
      '--socket <path>',
      'listen on this Unix domain socket instead of host:port (local clients, a reverse proxy on this machine)',
    )
    .option('--socket-mode <octal>', 'permission bits of the socket file (default 600: this user only)')
    .option('--models-dir <dir>', 'folder of bundles (default weights)')
    .option('--data-root <dir>', 'zarr paths of jobs are confined to this folder (default .)')
    .option('--jobs-dir <dir>', 'job records (default .emzoo/jobs)')
    .option('--token <token>', 'bearer token required for /jobs (or EMZOO_SERVE_TOKEN)')
    .option('--max-body-mb <n>', 'request body limit (default 256)')
    .option('--max-concurrent <n>', 'inference requests computing at once (default 2)')
    .option('--max-queue <n>', 'requests waiting beyond that before 429 (default 8)')
    .option('--request-timeout-ms <n>', 'per-request compute timeout (default 120000)')
    .option('--workers <n>', 'onnxruntime worker threads per model (default 1)')
    .option('--log-level <level>', 'debug | info | warn | error | silent (default info)')
    .option(
      '--shared-memory <mode>',
      "off | system: Triton's system shared-memory extension for clients on this machine (default off; see docs/server.md)",
    )
    .option('--shm-dir <dir>', 'where shared-memory keys live (default /dev/shm)')
    .addHelpText(
      'after',
      '\nRoutes: see docs/server.md or GET /openapi.json. Logs: one JSON object per line on stderr.',
    )
    .action(async (opts: ServeOpts) => {
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        const config = resolveConfig([
          opts.config ? configFromFile(opts.config) : {},
          configFromEnv(process.env),
          flagLayer(opts),
        ]);
        server = await startServer(config);
      } catch (err) {
        throw asCliError(err);
      }
      io.err(`serving on ${server.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
