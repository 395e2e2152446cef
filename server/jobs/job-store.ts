/** Job records on disk: one JSON file per job in the jobs folder, replaced atomically (write + rename). */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export interface JobSpec {
  readonly model: string;
  /** Paths relative to the data root, as submitted ("raw.zarr/volumes/raw"). */
  readonly input: string;
  readonly output: string;
  /** "z0:z1,y0:y1,x0:x1" or null for the whole volume. */
  readonly roi: string | null;
  readonly block: readonly number[] | null;
  readonly outputDtype: 'float32' | 'uint8';
}

export interface JobRecord extends JobSpec {
  readonly id: string;
  readonly state: JobState;
  readonly blocksDone: number;
  readonly blocksTotal: number | null;
  readonly etaSeconds: number | null;
  /** Times this job was started (a restart resumes it: > 1). */
  readonly attempts: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: { readonly code: string; readonly message: string; readonly hint: string } | null;
}

export const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class JobStore {
  readonly #dir: string;
  // Writes per job are chained so an older snapshot never overwrites a newer one.
  readonly #chains = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Every readable record (a torn or foreign file is skipped: writes are atomic, so none should be). */
  loadAll(): JobRecord[] {
    const out: JobRecord[] = [];
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.json') || !JOB_ID.test(name.slice(0, -5))) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.#dir, name), 'utf8')) as JobRecord);
      } catch {
        // ignore: not ours
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  save(rec: JobRecord): Promise<void> {
    const prev = this.#chains.get(rec.id) ?? Promise.resolve();
    const next = prev.then(async () => {
      const path = join(this.#dir, `${rec.id}.json`);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(rec, null, 2)}\n`);
      await rename(tmp, path);
    });
    this.#chains.set(
      rec.id,
      next.catch(() => {}),
    );
    return next;
  }

  async flush(): Promise<void> {
    await Promise.all(this.#chains.values());
  }
}
