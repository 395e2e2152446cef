// Adds up vitest's JSON report and pytest's JUnit XML into one "N passed, N failed" line.
import { existsSync, readFileSync } from 'node:fs';

const [vitestJson, pytestXml] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

if (vitestJson && existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} else {
  console.error('no vitest report found');
  failed += 1;
}

if (pytestXml && existsSync(pytestXml)) {
  const xml = readFileSync(pytestXml, 'utf8');
  const m = /<testsuite\b[^>]*>/.exec(xml);
  const attr = (name) => Number((new RegExp(`\\b${name}="(\\d+)"`).exec(m?.[0] ?? '') ?? [])[1] ?? 0);
  const total = attr('tests');
  const f = attr('failures') + attr('errors');
  const s = attr('skipped');
  passed += total - f - s;
  failed += f;
  skipped += s;
} else {
  console.error('no pytest report found');
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
