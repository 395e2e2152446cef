/** Finding bundles: a folder path, or a model id under the weights folder (errors list the known ids). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExportError } from '../exporters/index.js';

export const DEFAULT_WEIGHTS = 'weights';
export const DEFAULT_DIST = 'dist';

export function bundleDirs(weights: string): string[] {
  if (!existsSync(weights)) return [];
  return readdirSync(weights)
    .sort()
    .map((n) => join(weights, n))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'bundle.yaml')));
}

export function resolveBundle(arg: string, weights: string): string {
  if (existsSync(join(arg, 'bundle.yaml'))) return resolve(arg);
  const byId = join(weights, arg);
  if (existsSync(join(byId, 'bundle.yaml'))) return resolve(byId);
  const known = bundleDirs(weights).map((d) => d.slice(weights.length + 1));
  throw new ExportError(
    'BundleNotFound',
    `no bundle '${arg}' (neither a folder with bundle.yaml nor an id in ${weights}/)`,
    {
      hint:
        known.length > 0
          ? `known bundles in ${weights}/: ${known.join(', ')}`
          : `${weights}/ has no bundles yet; export one with \`.venv/bin/emzoo export --preset NAME --out ${weights}/NAME\``,
    },
  );
}
