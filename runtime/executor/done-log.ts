import { open, readFile } from 'node:fs/promises';
import { ResumeMismatchError } from '../errors.js';

/**
 * Done blocks as JSON lines beside the output: a first line naming the run's plan fingerprint,
 * then one `{"block": id}` line per finished block, appended with O_APPEND after the block's data
 * is written (one small write per line, so a killed process leaves at most a torn last line, which
 * is ignored on load).
 */
export class DoneLog {
  /** undefined for an in-memory log (DoneLog.memory): nothing is persisted. */
  readonly path: string | undefined;
  readonly #fingerprint: string;
  readonly #done: Uint8Array;
  #count: number;

  private constructor(path: string | undefined, fingerprint: string, done: Uint8Array, count: number) {
    this.path = path;
    this.#fingerprint = fingerprint;
    this.#done = done;
    this.#count = count;
  }

  /** Loads (or starts) the log for a run of `blockCount` blocks identified by `fingerprint`. */
  static async open(path: string, fingerprint: string, blockCount: number): Promise<DoneLog> {
    const done = new Uint8Array(Math.ceil(blockCount / 8)); // a bitmap: memory ~ blocks/8 bytes
    let count = 0;
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) {
      await DoneLog.#append(path, { plan: fingerprint });
      return new DoneLog(path, fingerprint, done, 0);
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const parse = (l: string): unknown => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined; // torn last line of a killed run
      }
    };
    const head = parse(lines[0] ?? '') as { plan?: unknown } | undefined;
    if (head?.plan !== fingerprint) {
      throw new ResumeMismatchError(path, fingerprint, String(head?.plan ?? 'unreadable'));
    }
    for (const l of lines.slice(1)) {
      const id = (parse(l) as { block?: unknown } | undefined)?.block;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < blockCount) {
        const byte = id >> 3;
        const bit = 1 << (id & 7);
        if (!((done[byte] as number) & bit)) {
          done[byte] = (done[byte] as number) | bit;
          count++;
        }
      }
    }
    return new DoneLog(path, fingerprint, done, count);
  }

  /** A log that lives only in memory (one-shot runs, e.g. tiling an in-memory array). */
  static memory(blockCount: number): DoneLog {
    return new DoneLog(undefined, '', new Uint8Array(Math.ceil(blockCount / 8)), 0);
  }

  static async #append(path: string, record: unknown): Promise<void> {
    const fh = await open(path, 'a');
    try {
      await fh.write(`${JSON.stringify(record)}\n`);
    } finally {
      await fh.close();
    }
  }

  get fingerprint(): string {
    return this.#fingerprint;
  }
  get count(): number {
    return this.#count;
  }

  has(id: number): boolean {
    return (((this.#done[id >> 3] as number) >> (id & 7)) & 1) === 1;
  }

  async markDone(id: number): Promise<void> {
    if (this.has(id)) return;
    if (this.path !== undefined) await DoneLog.#append(this.path, { block: id });
    this.#done[id >> 3] = (this.#done[id >> 3] as number) | (1 << (id & 7));
    this.#count++;
  }
}
