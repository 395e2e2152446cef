/**
 * One typed server configuration from defaults < config file (JSON or YAML) < environment
 * (EMZOO_SERVE_*) < flags, validated once at start; every problem is named with how to fix it.
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as yaml from 'js-yaml';
import { ServeError } from './errors.js';

export interface ServerConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * Listen on this Unix domain socket instead of host:port (local clients, a reverse proxy on the
   * same machine). Access is the socket file's permissions, `socketMode`.
   */
  readonly socket: string | undefined;
  /** Permission bits of the socket file (default 0o600: the user running the server only). */
  readonly socketMode: number;
  /** Folder of bundles (weights/<id>/bundle.yaml). */
  readonly modelsDir: string;
  /** Every zarr path of a job is confined to this folder. */
  readonly dataRoot: string;
  /** Job records (one JSON per job). */
  readonly jobsDir: string;
  /** Built consumer zips (GET /models/{id}/download). */
  readonly cacheDir: string;
  /** Bearer token required on /jobs routes; undefined = none (allowed on loopback hosts only). */
  readonly token: string | undefined;
  readonly maxBodyBytes: number;
  /** Inference requests computing at once; more wait in the queue. */
  readonly maxConcurrent: number;
  /** Requests allowed to wait; beyond that → 429. */
  readonly maxQueue: number;
  readonly requestTimeoutMs: number;
  /** onnxruntime worker threads per model. */
  readonly workers: number;
  /** Bytes of blocks in flight per request or job. */
  readonly memoryBudgetBytes: number;
  /** Volume jobs running at once (more stay queued). */
  readonly maxJobs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * 'system': the KServe/Triton system shared-memory extension is on (clients register files of
   * `shmDir` as regions the server reads inputs from and writes outputs into). 'off' (default).
   */
  readonly sharedMemory: 'off' | 'system';
  /** Where POSIX shared-memory keys live: key '/name' is the file `<shmDir>/name`. */
  readonly shmDir: string;
}

export const CONFIG_KEYS = [
  'host',
  'port',
  'socket',
  'socketMode',
  'modelsDir',
  'dataRoot',
  'jobsDir',
  'cacheDir',
  'token',
  'maxBodyBytes',
  'maxConcurrent',
  'maxQueue',
  'requestTimeoutMs',
  'workers',
  'memoryBudgetBytes',
  'maxJobs',
  'logLevel',
  'sharedMemory',
  'shmDir',
] as const satisfies readonly (keyof ServerConfig)[];

type Key = (typeof CONFIG_KEYS)[number];
export type ConfigInput = Partial<Record<Key, unknown>>;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const SHARED_MEMORY = ['off', 'system'] as const;

export function defaultConfig(cwd = process.cwd()): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 8000,
    socket: undefined,
    socketMode: 0o600,
    modelsDir: resolve(cwd, 'weights'),
    dataRoot: resolve(cwd),
    jobsDir: resolve(cwd, '.emzoo/jobs'),
    cacheDir: resolve(cwd, '.emzoo/zips'),
    token: undefined,
    maxBodyBytes: 256 * 2 ** 20,
    maxConcurrent: 2,
    maxQueue: 8,
    requestTimeoutMs: 120_000,
    workers: 1,
    memoryBudgetBytes: 2 ** 30,
    maxJobs: 1,
    logLevel: 'info',
    sharedMemory: 'off',
    shmDir: '/dev/shm',
  };
}

/** EMZOO_SERVE_MAX_BODY_BYTES → maxBodyBytes, ... */
export function configFromEnv(env: NodeJS.ProcessEnv): ConfigInput {
  const out: ConfigInput = {};
  for (const key of CONFIG_KEYS) {
    const name = `EMZOO_SERVE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    if (env[name] !== undefined && env[name] !== '') out[key] = env[name];
  }
  return out;
}

export function configFromFile(path: string): ConfigInput {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new ServeError('ConfigInvalid', `cannot read config file ${path}: ${(err as Error).message}`, {
      hint: 'pass a JSON or YAML file with keys such as port, host, modelsDir, dataRoot, token',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ServeError('ConfigInvalid', `config file ${path} is not a mapping`, {
      hint: `use keys: ${CONFIG_KEYS.join(', ')}`,
    });
  }
  const unknown = Object.keys(raw).filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new ServeError('ConfigInvalid', `config file ${path}: unknown key(s) ${unknown.join(', ')}`, {
      hint: `use keys: ${CONFIG_KEYS.join(', ')}`,
    });
  }
  return raw as ConfigInput;
}

const isDirectory = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost';

/** Linux keeps a socket path in sun_path[108], NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

/** Permission bits as a number or an octal string ('660', '0o660'). */
function parseMode(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0o777 ? v : undefined;
  if (typeof v !== 'string' || !/^(0o?)?[0-7]{1,3}$/.test(v.trim())) return undefined;
  return Number.parseInt(v.trim().replace(/^0o?/, '') || '0', 8);
}

function socketProblems(path: string, mode: number | undefined, token: string | undefined): string[] {
  const out: string[] = [];
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
    out.push(
      `socket ${path} is ${Buffer.byteLength(path)} bytes long; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}`,
    );
  if (!isDirectory(dirname(path))) out.push(`socket ${path}: its folder ${dirname(path)} does not exist`);
  try {
    if (!lstatSync(path).isSocket())
      out.push(`socket ${path} exists and is not a socket (it is left alone: choose another path)`);
  } catch {
    // absent: listen creates it
  }
  if (mode !== undefined && (mode & 0o002) !== 0 && token === undefined)
    out.push(
      `socketMode ${mode.toString(8)} lets every user connect but no token is set: anyone could start jobs`,
    );
  return out;
}

/** Merges layers (later wins) over the defaults and validates; throws ConfigInvalid listing every problem. */
export function resolveConfig(layers: readonly ConfigInput[], cwd = process.cwd()): ServerConfig {
  const merged: Record<string, unknown> = { ...defaultConfig(cwd) };
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k] = v;
  const problems: string[] = [];
  const int = (key: Key, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = merged[key];
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
      return min;
    }
    return n;
  };
  const str = (key: Key): string => {
    const v = merged[key];
    if (typeof v !== 'string' || v === '') {
      problems.push(`${key} must be a non-empty string, got ${JSON.stringify(v)}`);
      return '';
    }
    return v;
  };
  const host = str('host');
  const token = merged.token === undefined ? undefined : str('token');
  if (token !== undefined && token.length < 8)
    problems.push('token must be at least 8 characters (use a random string)');
  const logLevel = merged.logLevel;
  if (!LOG_LEVELS.includes(logLevel as ServerConfig['logLevel']))
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const sharedMemory = merged.sharedMemory;
  if (!SHARED_MEMORY.includes(sharedMemory as ServerConfig['sharedMemory']))
    problems.push(
      `sharedMemory must be one of ${SHARED_MEMORY.join(', ')}, got ${JSON.stringify(sharedMemory)}`,
    );
  const socket = merged.socket === undefined ? undefined : resolve(cwd, str('socket'));
  const socketMode = parseMode(merged.socketMode);
  if (socketMode === undefined)
    problems.push(
      `socketMode must be permission bits in octal such as 600 or 660, got ${JSON.stringify(merged.socketMode)}`,
    );
  if (socket !== undefined) problems.push(...socketProblems(socket, socketMode, token));
  const shmDir = resolve(cwd, str('shmDir'));
  if (sharedMemory === 'system' && !isDirectory(shmDir))
    problems.push(`shmDir ${shmDir} is not a directory (POSIX shared memory lives in /dev/shm on Linux)`);
  const config: ServerConfig = {
    host,
    port: int('port', 0, 65535),
    socket,
    socketMode: socketMode ?? 0o600,
    modelsDir: resolve(cwd, str('modelsDir')),
    dataRoot: resolve(cwd, str('dataRoot')),
    jobsDir: resolve(cwd, str('jobsDir')),
    cacheDir: resolve(cwd, str('cacheDir')),
    token,
    maxBodyBytes: int('maxBodyBytes', 1024),
    maxConcurrent: int('maxConcurrent', 1, 1024),
    maxQueue: int('maxQueue', 0, 100_000),
    requestTimeoutMs: int('requestTimeoutMs', 100),
    workers: int('workers', 1, 256),
    memoryBudgetBytes: int('memoryBudgetBytes', 2 ** 20),
    maxJobs: int('maxJobs', 1, 64),
    logLevel: logLevel as ServerConfig['logLevel'],
    sharedMemory: sharedMemory as ServerConfig['sharedMemory'],
    shmDir,
  };
  if (problems.length === 0 && token === undefined && socket === undefined && !isLoopback(host)) {
    problems.push(`host ${host} is not loopback but no token is set: anyone could start jobs`);
  }
  if (problems.length > 0) {
    throw new ServeError('ConfigInvalid', `invalid server configuration: ${problems.join('; ')}`, {
      hint: 'fix the flag, EMZOO_SERVE_* variable or config file key named above (set --token when binding a public host)',
    });
  }
  return config;
}
