/**
 * Untrusted names → paths that stay inside a configured root: resolve, check the prefix, then
 * resolve symlinks of the deepest existing ancestor and check again (a link must not lead out).
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ServeError } from './errors.js';

/** Model ids as bundle folder names: lower case, digits, '.', '_' and '-', no leading dot. */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

const inside = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** The real path of `p`, or of its deepest existing ancestor joined with the rest (for outputs to be made). */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return resolve(realpathSync(cur), ...rest.reverse());
    } catch {
      const up = dirname(cur);
      if (up === cur) return p;
      rest.push(cur.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
      cur = up;
    }
  }
}

/** `userPath` (relative to `root`) as an absolute path inside `root`, or PathForbidden. */
export function confine(root: string, userPath: string, what: string): string {
  if (typeof userPath !== 'string' || userPath === '' || userPath.includes('\0')) {
    throw new ServeError('InvalidArgument', `${what} must be a non-empty path`, {
      hint: `give a path relative to the data root ${root}`,
    });
  }
  const realRoot = realish(resolve(root));
  const abs = resolve(root, userPath);
  if (!inside(resolve(root), abs) || !inside(realRoot, realish(abs))) {
    throw new ServeError('PathForbidden', `${what} '${userPath}' is outside the data root`, {
      hint: `give a path relative to the data root (${root}) without '..' or symlinks leading out of it`,
    });
  }
  return abs;
}
