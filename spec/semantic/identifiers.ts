/** Identifier rules bioimageio.spec applies beyond the JSON schema (Python `str.isidentifier`). */

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

/** A Python identifier that is not a keyword (ASCII subset of `str.isidentifier`). */
export function identifierProblem(s: string): string | undefined {
  if (s.length === 0) return 'is empty';
  if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(s))
    return `'${s}' is not a valid identifier (letters, digits, _; not starting with a digit)`;
  if (PY_KEYWORDS.has(s)) return `'${s}' is a Python keyword`;
  return undefined;
}

/**
 * Tensor and axis ids are lower-case identifiers in the spec, but bioimageio.spec 0.5.9.1 does not
 * enforce the case (its `LowerCase` annotation is inert), so case is only a warning.
 */
export function lowerCaseProblem(s: string): string | undefined {
  return s !== s.toLowerCase() ? `'${s}' is not lower case` : undefined;
}

export const NAME_CHARS = /^[A-Za-z0-9_+\- ()]*$/;
