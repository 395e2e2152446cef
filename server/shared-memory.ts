/**
 * The server side of the KServe/Triton system shared-memory extension: named regions of POSIX
 * shared-memory objects that a co-located client created (on Linux, key '/name' is the tmpfs
 * file `<shmDir>/name`, which is what shm_open opens). Each region keeps one open fd; tensor bytes
 * are read with pread and written with pwrite at (region offset + tensor offset), and the client's
 * mmap of the same object sees them. No native module.
 *
 * Keys are untrusted: a strict pattern (no '/' inside, no leading dot), opened with O_NOFOLLOW (a
 * symlink is refused), a regular file only, its real path inside the real shm folder, and never
 * created: the client makes the object, the server only opens it.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { ServeError } from './errors.js';

/** A POSIX shm key: '/name' or 'name' (both are `<shmDir>/name`), letters, digits, '.', '_', '-'. */
export const SHM_KEY = /^\/?[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
/** Region names, as they appear in `/v2/systemsharedmemory/region/{name}/…`. */
export const SHM_REGION_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Regions held at once (each is an open fd). */
const MAX_REGIONS = 256;

/** One region as the status routes report it (Triton's `$system_shared_memory_status_response` item). */
export interface ShmRegionStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byte_size: number;
}

/** Where a tensor's bytes are: a registered region, the offset into it and the byte count. */
export interface ShmRef {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

interface Region {
  readonly status: ShmRegionStatus;
  readonly fd: FileHandle;
  /** Reads and writes in flight: an unregistered region's fd is closed when the last one ends. */
  users: number;
  unregistered: boolean;
}

const invalid = (message: string, hint: string) => new ServeError('InvalidArgument', message, { hint });
const REGISTER_HINT =
  'create the object first (tritonclient.utils.shared_memory.create_shared_memory_region), then register it with client.register_system_shared_memory(name, key, byte_size)';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isCount = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** A region name from a URL, or InvalidArgument. */
export function parseRegionName(name: string): string {
  if (!SHM_REGION_NAME.test(name)) {
    throw invalid(
      `shared-memory region name ${JSON.stringify(name.slice(0, 200))} is not allowed`,
      `use 1–128 of letters, digits, '_', '.', ':', '-' (pattern ${SHM_REGION_NAME.source})`,
    );
  }
  return name;
}

/** The register body `{"key", "offset", "byte_size"}` (Triton's), or InvalidArgument naming the field. */
export function parseRegisterBody(body: Buffer): { key: string; offset: number; byteSize: number } {
  const hint = 'send {"key": "/name", "offset": 0, "byte_size": N} as Triton clients do';
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ServeError('MalformedRequest', `register body is not JSON: ${(err as Error).message}`, {
      hint,
    });
  }
  if (!isRecord(v)) throw invalid('register body must be a JSON object', hint);
  const extra = Object.keys(v).filter((k) => !['key', 'offset', 'byte_size'].includes(k));
  if (extra.length > 0) throw invalid(`unknown register field(s) ${extra.join(', ')}`, hint);
  const { key, byte_size } = v;
  const offset = v.offset ?? 0;
  if (typeof key !== 'string') throw invalid('key must be a string such as "/name"', hint);
  if (!SHM_KEY.test(key)) {
    const keyHint = `a key names one object directly in the shm folder: '/name' with letters, digits, '.', '_', '-' (no '/' inside, no leading dot; pattern ${SHM_KEY.source})`;
    const message = `shared-memory key ${JSON.stringify(key.slice(0, 200))} is not allowed`;
    // A key that could name something outside the folder ('../x', '/a/b', '.hidden') is a path
    // attack or mistake: 403 as for data-root paths; any other bad character is a plain 400.
    const file = key.startsWith('/') ? key.slice(1) : key;
    if (file.includes('/') || file.startsWith('.') || file.includes('\0'))
      throw new ServeError('PathForbidden', message, { hint: keyHint });
    throw invalid(message, keyHint);
  }
  if (!isCount(offset, 0)) throw invalid(`offset must be a non-negative integer, got ${offset}`, hint);
  if (!isCount(byte_size, 1))
    throw invalid(`byte_size must be a positive integer, got ${JSON.stringify(byte_size)}`, hint);
  return { key, offset, byteSize: byte_size };
}

/**
 * The `shared_memory_*` parameters of one input or requested output: none (undefined), or all
 * of region and byte size (offset optional, 0), each well typed; else MalformedRequest.
 */
export function parseShmParams(
  p: Readonly<Record<string, string | number | boolean>>,
  where: string,
): ShmRef | undefined {
  const region = p.shared_memory_region;
  const size = p.shared_memory_byte_size;
  const offset = p.shared_memory_offset ?? 0;
  if (region === undefined && size === undefined && p.shared_memory_offset === undefined) return undefined;
  const bad = (m: string) =>
    new ServeError('MalformedRequest', `${where}.parameters: ${m}`, {
      hint: 'give shared_memory_region (a registered name) and shared_memory_byte_size, optionally shared_memory_offset (tensor.set_shared_memory(name, byte_size, offset) in tritonclient)',
    });
  if (typeof region !== 'string' || region === '') throw bad('shared_memory_region must be a region name');
  if (!isCount(size, 0)) throw bad('shared_memory_byte_size must be a non-negative integer');
  if (!isCount(offset, 0)) throw bad('shared_memory_offset must be a non-negative integer');
  return { region, offset, byteSize: size };
}

/** The registered regions of one server: register, status, unregister, and tensor bytes in and out. */
export class SharedMemoryRegistry {
  readonly #dir: string;
  readonly #regions = new Map<string, Region>();
  /** Names whose register is opening its file (so two registers of one name cannot both win). */
  readonly #opening = new Set<string>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Every region, or the one named (NotFound when it is not registered). */
  status(name?: string): ShmRegionStatus[] {
    if (name === undefined) return [...this.#regions.values()].map((r) => r.status);
    const r = this.#regions.get(name);
    if (!r) {
      throw new ServeError('NotFound', `no system shared-memory region '${name}' is registered`, {
        hint: 'GET /v2/systemsharedmemory/status lists the registered regions',
      });
    }
    return [r.status];
  }

  /** Opens `<shmDir>/<key>` (never creates it) and holds it as region `name`. */
  async register(name: string, req: { key: string; offset: number; byteSize: number }): Promise<void> {
    if (this.#regions.has(name) || this.#opening.has(name)) {
      throw new ServeError('Conflict', `system shared-memory region '${name}' is already registered`, {
        hint: 'unregister it first, or register under another name',
      });
    }
    if (this.#regions.size + this.#opening.size >= MAX_REGIONS) {
      throw invalid(`${MAX_REGIONS} regions are registered already`, 'unregister regions you no longer use');
    }
    this.#opening.add(name);
    try {
      const fd = await this.#open(req.key);
      try {
        const size = (await fd.stat()).size;
        if (req.offset + req.byteSize > size) {
          throw invalid(
            `region '${name}' (offset ${req.offset} + byte_size ${req.byteSize}) ends after the object '${req.key}' (${size} bytes)`,
            'register a byte_size and offset within the object the client created',
          );
        }
      } catch (err) {
        await fd.close();
        throw err;
      }
      const status = { name, key: req.key, offset: req.offset, byte_size: req.byteSize };
      this.#regions.set(name, { status, fd, users: 0, unregistered: false });
    } finally {
      this.#opening.delete(name);
    }
  }

  /** Unregisters `name` (every region when undefined). An unknown name is a no-op, as in Triton. */
  async unregister(name?: string): Promise<void> {
    const names = name === undefined ? [...this.#regions.keys()] : [name];
    const closing: Promise<void>[] = [];
    for (const n of names) {
      const r = this.#regions.get(n);
      if (!r) continue;
      this.#regions.delete(n);
      r.unregistered = true;
      if (r.users === 0) closing.push(r.fd.close());
    }
    await Promise.all(closing);
  }

  /** Checks that `ref` lies in a registered region (before any compute), or InvalidArgument. */
  check(ref: ShmRef, what: string): void {
    this.#region(ref, what);
  }

  /** The tensor's bytes, copied out of the region into a fresh (aligned) buffer. */
  async read(ref: ShmRef, what: string): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(ref.byteSize);
    await this.#use(ref, what, async (fd, at) => {
      for (let done = 0; done < out.length; ) {
        const { bytesRead } = await fd.read(out, done, out.length - done, at + done);
        if (bytesRead === 0) throw this.#shrunk(ref, what);
        done += bytesRead;
      }
    });
    return out;
  }

  /** Writes `bytes` at the start of `ref` (which must be at least as large). */
  async write(ref: ShmRef, bytes: Uint8Array, what: string): Promise<void> {
    await this.#use(ref, what, async (fd, at) => {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await fd.write(bytes, done, bytes.length - done, at + done);
        done += bytesWritten;
      }
    });
  }

  /** Closes every fd (server shutdown). */
  async close(): Promise<void> {
    await this.unregister();
  }

  #region(ref: ShmRef, what: string): Region {
    const r = this.#regions.get(ref.region);
    if (!r) {
      throw invalid(
        `${what}: no system shared-memory region '${ref.region}' is registered`,
        `register it first (POST /v2/systemsharedmemory/region/${ref.region}/register; ${REGISTER_HINT})`,
      );
    }
    if (ref.offset + ref.byteSize > r.status.byte_size) {
      throw invalid(
        `${what}: bytes ${ref.offset}..${ref.offset + ref.byteSize} lie outside region '${ref.region}' (${r.status.byte_size} bytes)`,
        'keep shared_memory_offset + shared_memory_byte_size within the registered byte_size',
      );
    }
    return r;
  }

  #shrunk(ref: ShmRef, what: string): ServeError {
    return invalid(
      `${what}: the object behind region '${ref.region}' is now smaller than the region`,
      'do not truncate a registered shared-memory object; unregister and register it again',
    );
  }

  /** Runs `fn` with the region's fd and the absolute file position of `ref`, the fd held open meanwhile. */
  async #use(ref: ShmRef, what: string, fn: (fd: FileHandle, at: number) => Promise<void>): Promise<void> {
    const r = this.#region(ref, what);
    r.users++;
    try {
      const at = r.status.offset + ref.offset;
      // The client may have truncated the object since it was registered: never read past it or
      // grow it by writing (a write past the end of a tmpfs file extends it).
      if (at + ref.byteSize > (await r.fd.stat()).size) throw this.#shrunk(ref, what);
      await fn(r.fd, at);
    } finally {
      r.users--;
      if (r.unregistered && r.users === 0) await r.fd.close();
    }
  }

  async #open(key: string): Promise<FileHandle> {
    const file = key.startsWith('/') ? key.slice(1) : key;
    const path = join(this.#dir, file);
    let fd: FileHandle;
    try {
      // O_NONBLOCK: a FIFO planted under the name must not hang the open.
      fd = await open(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw invalid(`shared-memory object '${key}' does not exist (no file ${path})`, REGISTER_HINT);
      if (code === 'ELOOP')
        throw new ServeError('PathForbidden', `shared-memory object '${key}' is a symbolic link`, {
          hint: 'register the object itself; links are refused so a key cannot lead out of the shm folder',
        });
      if (code === 'EACCES' || code === 'EPERM')
        throw new ServeError('PathForbidden', `the server may not open '${key}' for reading and writing`, {
          hint: 'create the object as the user the server runs as, or give that user read-write access',
        });
      throw invalid(
        `cannot open shared-memory object '${key}': ${code ?? (err as Error).message}`,
        REGISTER_HINT,
      );
    }
    try {
      const [st, real, realDir] = await Promise.all([fd.stat(), realpath(path), realpath(this.#dir)]);
      if (!st.isFile()) throw invalid(`shared-memory object '${key}' is not a regular file`, REGISTER_HINT);
      if (real !== join(realDir, file)) {
        throw new ServeError('PathForbidden', `shared-memory object '${key}' resolves outside ${this.#dir}`, {
          hint: 'register an object created directly in the shm folder',
        });
      }
      return fd;
    } catch (err) {
      await fd.close();
      throw err;
    }
  }
}
