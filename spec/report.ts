/** The typed validation report and its text rendering (JSON is the report itself). */

import type { Issue } from './errors.js';

export type Consumer = 'ilastik' | 'deepimagej';

export interface ValidationReport {
  /** True when there are no errors (warnings do not fail). */
  readonly ok: boolean;
  /** Where the description came from (folder, zip, memory label). */
  readonly source: string;
  readonly rdfName: string | undefined;
  readonly formatVersion: string | undefined;
  /** Which checks ran: the file/tensor checks need the files; consumer rules are opt-in. */
  readonly checks: {
    readonly schema: boolean;
    readonly semantic: boolean;
    readonly files: boolean;
    readonly consumers: readonly Consumer[];
  };
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
}

export function makeReport(
  fields: Omit<ValidationReport, 'ok' | 'errors' | 'warnings'>,
  issues: readonly Issue[],
): ValidationReport {
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning');
  return { ok: errors.length === 0, ...fields, errors, warnings };
}

function line(i: Issue): string {
  return `  ${i.path || '/'}  [${i.code}] ${i.message}\n      hint: ${i.hint}`;
}

export function formatReportText(r: ValidationReport): string {
  const head = `${r.ok ? 'VALID' : 'INVALID'}  ${r.source}${r.rdfName ? `/${r.rdfName}` : ''}  (format ${r.formatVersion ?? '?'}; ${r.errors.length} error(s), ${r.warnings.length} warning(s))`;
  const parts = [head];
  if (r.errors.length) parts.push('errors:', ...r.errors.map(line));
  if (r.warnings.length) parts.push('warnings:', ...r.warnings.map(line));
  return `${parts.join('\n')}\n`;
}
