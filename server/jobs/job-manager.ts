/**
 * Volume jobs on one machine: a FIFO with `maxJobs` running, progress events for SSE, cancel via
 * AbortSignal, and records persisted so a restarted server resumes unfinished jobs (the blockwise
 * executor's done log skips the blocks already written).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Catalog } from '../catalog.js';
import type { ServerConfig } from '../config.js';
import { ServeError } from '../errors.js';
import { toHttpError } from '../http-errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { confine } from '../paths.js';
import { checkVolumeInput, runVolume } from '../volume-run.js';
import { parseRoi, parseZarrLocation } from '../zarr-args.js';
import { JOB_ID, JOB_STATES, type JobRecord, type JobSpec, JobStore, TERMINAL } from './job-store.js';

const SHUTDOWN = Symbol('shutdown');

export class JobManager {
  readonly #store: JobStore;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #queue: string[] = [];
  readonly #running = new Map<string, { ctrl: AbortController; done: Promise<void> }>();
  readonly #events = new EventEmitter();
  #closed = false;

  constructor(
    readonly config: ServerConfig,
    readonly catalog: Catalog,
    readonly metrics: Metrics,
    readonly log: Logger,
  ) {
    this.#store = new JobStore(config.jobsDir);
    this.#events.setMaxListeners(0);
  }

  /** Loads persisted jobs; unfinished ones are queued again (and resume where they stopped). */
  async init(): Promise<void> {
    for (const rec of this.#store.loadAll()) {
      if (TERMINAL.has(rec.state)) {
        this.#jobs.set(rec.id, rec);
        continue;
      }
      this.log.info('resuming job', { job: rec.id, state: rec.state, blocksDone: rec.blocksDone });
      this.#set({ ...rec, state: 'queued' });
      this.#queue.push(rec.id);
    }
    this.#pump();
  }

  /** Validates a submission (parsed JSON body) and queues it. */
  async submit(spec: JobSpec): Promise<JobRecord> {
    if (this.#closed)
      throw new ServeError('NotReady', 'server is shutting down', {
        hint: 'retry on the restarted server',
        retryAfter: 5,
      });
    const entry = this.catalog.get(spec.model);
    if (entry.bundle.output.kind !== 'dense') {
      throw new ServeError('InvalidArgument', `model '${spec.model}' outputs classes, not volumes`, {
        hint: 'volume jobs need a dense model (lsd, synful, micron); use /v2/models/{id}/infer for class models',
      });
    }
    const input = parseZarrLocation(spec.input);
    const inAbs = confine(this.config.dataRoot, input.container, 'input');
    const outAbs = confine(this.config.dataRoot, spec.output, 'output');
    if (!existsSync(inAbs)) {
      throw new ServeError('InvalidArgument', `input '${spec.input}' does not exist under the data root`, {
        hint: 'give the zarr path relative to the data root, e.g. "raw.zarr" or "sample.zarr/volumes/raw"',
      });
    }
    if (existsSync(outAbs)) {
      throw new ServeError('Conflict', `output '${spec.output}' already exists`, {
        hint: 'choose a new output path (an interrupted job resumes on its own; do not resubmit it)',
      });
    }
    // The checks a run would make first (voxel size, axes, dtype, roi, block): fail now with a 4xx.
    await checkVolumeInput({
      modelId: spec.model,
      bundle: entry.bundle,
      input: { container: inAbs, path: input.path },
      roi: spec.roi === null ? undefined : parseRoi(spec.roi),
      block: spec.block ?? undefined,
      outputDtype: spec.outputDtype,
    });
    const now = new Date().toISOString();
    const rec: JobRecord = {
      ...spec,
      id: randomUUID(),
      state: 'queued',
      blocksDone: 0,
      blocksTotal: null,
      etaSeconds: null,
      attempts: 0,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    this.#set(rec);
    await this.#store.save(rec);
    this.#queue.push(rec.id);
    this.#pump();
    return this.#jobs.get(rec.id) as JobRecord;
  }

  get(id: string): JobRecord {
    const rec = JOB_ID.test(id) ? this.#jobs.get(id) : undefined;
    if (!rec)
      throw new ServeError('NotFound', `no job '${id}'`, {
        hint: 'list ids from the 202 answer of POST /jobs',
      });
    return rec;
  }

  list(): JobRecord[] {
    return [...this.#jobs.values()];
  }

  /** Cancels a queued or running job (running ones stop after their in-flight blocks). */
  async cancel(id: string): Promise<JobRecord> {
    const rec = this.get(id);
    if (TERMINAL.has(rec.state)) {
      throw new ServeError('Conflict', `job ${id} is already ${rec.state}`, {
        hint: 'only queued or running jobs can be cancelled',
      });
    }
    const running = this.#running.get(id);
    if (running) {
      running.ctrl.abort('cancel');
      await running.done;
    } else {
      const i = this.#queue.indexOf(id);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#finish(rec.id, { state: 'cancelled' });
    }
    await this.#store.flush();
    return this.get(id);
  }

  /** Calls `fn` with every new snapshot of job `id`; returns the unsubscribe function. */
  subscribe(id: string, fn: (rec: JobRecord) => void): () => void {
    this.#events.on(id, fn);
    return () => this.#events.off(id, fn);
  }

  /** Stops running jobs without marking them finished: they resume on the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    for (const r of this.#running.values()) r.ctrl.abort(SHUTDOWN);
    await Promise.all([...this.#running.values()].map((r) => r.done));
    await this.#store.flush();
  }

  #set(rec: JobRecord): void {
    this.#jobs.set(rec.id, rec);
    for (const s of JOB_STATES) this.metrics.jobs.set({ state: s }, 0);
    for (const j of this.#jobs.values()) this.metrics.jobs.inc({ state: j.state });
    this.#events.emit(rec.id, rec);
  }

  #update(id: string, patch: Partial<JobRecord>, persist: boolean): void {
    const rec = { ...(this.#jobs.get(id) as JobRecord), ...patch };
    this.#set(rec);
    if (persist)
      void this.#store
        .save(rec)
        .catch((err) => this.log.error('cannot save job', { job: id, error: String(err) }));
  }

  #finish(id: string, patch: Partial<JobRecord>): void {
    this.#update(id, { ...patch, etaSeconds: null, finishedAt: new Date().toISOString() }, true);
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.config.maxJobs && this.#queue.length > 0) {
      const id = this.#queue.shift() as string;
      const ctrl = new AbortController();
      const done = this.#run(id, ctrl.signal).finally(() => {
        this.#running.delete(id);
        this.#pump();
      });
      this.#running.set(id, { ctrl, done });
    }
  }

  async #run(id: string, signal: AbortSignal): Promise<void> {
    const rec = this.get(id);
    const log = this.log.child({ job: id });
    this.#update(
      id,
      { state: 'running', attempts: rec.attempts + 1, startedAt: new Date().toISOString() },
      true,
    );
    let lastSave = 0;
    try {
      const entry = this.catalog.get(rec.model);
      const backend = await this.catalog.backend(rec.model);
      const input = parseZarrLocation(rec.input);
      const output = parseZarrLocation(rec.output);
      const result = await runVolume({
        modelId: rec.model,
        bundle: entry.bundle,
        backend,
        input: { container: confine(this.config.dataRoot, input.container, 'input'), path: input.path },
        output: { container: confine(this.config.dataRoot, output.container, 'output'), path: output.path },
        roi: rec.roi === null ? undefined : parseRoi(rec.roi),
        block: rec.block ?? undefined,
        outputDtype: rec.outputDtype,
        memoryBudgetBytes: this.config.memoryBudgetBytes,
        signal,
        onNote: (note) => log.warn(note),
        onProgress: (p) => {
          this.metrics.blocks.inc({ model: rec.model, source: 'job' });
          const now = Date.now();
          const persist = now - lastSave > 500;
          if (persist) lastSave = now;
          this.#update(
            id,
            { blocksDone: p.done, blocksTotal: p.total, etaSeconds: Math.round(p.etaMs / 100) / 10 },
            persist,
          );
        },
      });
      this.#finish(id, {
        state: 'succeeded',
        blocksDone: result.plan.blockCount,
        blocksTotal: result.plan.blockCount,
      });
      log.info('job succeeded', {
        processed: result.processed,
        skipped: result.skipped,
        ms: Math.round(result.elapsedMs),
      });
    } catch (err) {
      if (signal.aborted && signal.reason === SHUTDOWN) {
        // Left unfinished on disk: the next start resumes it.
        await this.#store.save({ ...(this.#jobs.get(id) as JobRecord), state: 'queued' });
        log.info('job interrupted by shutdown; it resumes on the next start');
      } else if (signal.aborted) {
        this.#finish(id, { state: 'cancelled' });
        log.info('job cancelled');
      } else {
        const { body } = toHttpError(err);
        this.#finish(id, {
          state: 'failed',
          error: { code: body.code, message: body.message, hint: body.hint },
        });
        log.warn('job failed', { code: body.code, error: body.message });
      }
    }
  }
}
