/**
 * The model catalog: bundles under the models folder, read once at start (bundle.yaml validated
 * by exporters/readBundle), onnxruntime backends loaded lazily per model and shared.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Bundle, readBundle } from '../exporters/index.js';
import { type InferenceBackend, loadBackend } from '../runtime/index.js';
import { ServeError } from './errors.js';
import type { Logger } from './logger.js';
import { MODEL_ID } from './paths.js';

export interface CatalogEntry {
  readonly id: string;
  readonly bundle: Bundle;
}

export class Catalog {
  readonly #entries = new Map<string, CatalogEntry>();
  readonly #backends = new Map<string, Promise<InferenceBackend>>();
  readonly #workers: number;

  private constructor(workers: number) {
    this.#workers = workers;
  }

  /** Scans `dir` for `<id>/bundle.yaml`; invalid bundles are logged and left out. */
  static scan(dir: string, options: { workers: number; log: Logger }): Catalog {
    const c = new Catalog(options.workers);
    if (!existsSync(dir)) {
      options.log.warn('models folder does not exist', { modelsDir: dir });
      return c;
    }
    for (const name of readdirSync(dir).sort()) {
      const d = join(dir, name);
      if (!statSync(d).isDirectory() || !existsSync(join(d, 'bundle.yaml'))) continue;
      if (!MODEL_ID.test(name)) {
        options.log.warn('bundle folder name is not a valid model id; skipped', { folder: name });
        continue;
      }
      try {
        c.#entries.set(name, { id: name, bundle: readBundle(d) });
      } catch (err) {
        options.log.warn('invalid bundle skipped', { folder: name, error: (err as Error).message });
      }
    }
    return c;
  }

  get ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** The entry for `id`, or ModelNotFound listing the known ids. */
  get(id: string): CatalogEntry {
    const e = MODEL_ID.test(id) ? this.#entries.get(id) : undefined;
    if (!e) {
      throw new ServeError('ModelNotFound', `no model '${id}'`, {
        hint:
          this.#entries.size > 0
            ? `known models: ${this.ids.join(', ')}`
            : 'the models folder holds no bundles',
      });
    }
    return e;
  }

  /** The model's backend (worker pool), loaded on first use. */
  backend(id: string): Promise<InferenceBackend> {
    const e = this.get(id);
    let b = this.#backends.get(id);
    if (!b) {
      b = loadBackend(join(e.bundle.dir, e.bundle.weights.onnx.file), { workers: this.#workers });
      b.catch(() => this.#backends.delete(id));
      this.#backends.set(id, b);
    }
    return b;
  }

  async dispose(): Promise<void> {
    const all = [...this.#backends.values()];
    this.#backends.clear();
    await Promise.all(all.map((p) => p.then((b) => b.dispose()).catch(() => {})));
  }
}
