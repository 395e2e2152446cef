/**
 * Consumer zips for GET /models/{id}/download, built once per (model, profiles) with the exporter
 * (same checks as `bioimage-export package`) and kept on disk; the ETag is the zip's sha256.
 * Concurrent first requests share one build.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Profile, packageBundle, readZip } from '../exporters/index.js';
import type { CatalogEntry } from './catalog.js';

export interface BuiltZip {
  readonly path: string;
  readonly etag: string;
  readonly size: number;
}

export class ZipCache {
  readonly #dir: string;
  readonly #builds = new Map<string, Promise<BuiltZip>>();
  readonly #rdf = new Map<string, Promise<string>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The zip for `entry` and `profiles` (undefined = every consumer the model can serve). */
  get(entry: CatalogEntry, profiles: readonly Profile[] | undefined): Promise<BuiltZip> {
    const key = profiles ? [...profiles].sort().join('+') : 'all';
    // The bundle's own hashes name the cache folder: a re-exported bundle gets a new zip.
    const version = createHash('sha256')
      .update(JSON.stringify(entry.bundle.files))
      .digest('hex')
      .slice(0, 12);
    const mapKey = `${entry.id}/${version}/${key}`;
    let p = this.#builds.get(mapKey);
    if (!p) {
      p = this.#build(entry, profiles, join(this.#dir, entry.id, version, key));
      p.catch(() => this.#builds.delete(mapKey));
      this.#builds.set(mapKey, p);
    }
    return p;
  }

  async #build(
    entry: CatalogEntry,
    profiles: readonly Profile[] | undefined,
    outDir: string,
  ): Promise<BuiltZip> {
    const path = join(outDir, `${entry.bundle.id}.zip`);
    if (!existsSync(path)) await packageBundle(entry.bundle.dir, { outDir, profiles });
    const etag = `"${createHash('sha256').update(readFileSync(path)).digest('hex')}"`;
    return { path, etag, size: statSync(path).size };
  }

  /** rdf.yaml of the default package. */
  rdfYaml(entry: CatalogEntry): Promise<string> {
    let p = this.#rdf.get(entry.id);
    if (!p) {
      p = this.get(entry, undefined).then((z) => new TextDecoder().decode(readZip(z.path).get('rdf.yaml')));
      p.catch(() => this.#rdf.delete(entry.id));
      this.#rdf.set(entry.id, p);
    }
    return p;
  }

  stream(z: BuiltZip) {
    return createReadStream(z.path);
  }
}
