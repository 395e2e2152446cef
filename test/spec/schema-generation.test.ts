import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BIOIMAGEIO_SPEC_VERSION,
  SCHEMA_FORMAT_VERSION_0_4,
  SCHEMA_FORMAT_VERSION_0_5,
} from '../../spec/index.js';
import schema05 from '../../spec/schemas/generated/model-0.5.json' with { type: 'json' };

const PY = join(process.cwd(), '.venv/bin/python');
const GENERATED = join(process.cwd(), 'spec/schemas/generated');

describe('generated bioimage.io schemas', () => {
  test('the committed files are exactly what the script makes from the installed bioimageio.spec', () => {
    const out = mkdtempSync(join(tmpdir(), 'rdf-schema-'));
    try {
      const r = spawnSync(PY, [join(process.cwd(), 'spec/scripts/generate-rdf-schema.py'), '--out', out], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const names = readdirSync(GENERATED).sort();
      expect(readdirSync(out).sort()).toEqual(names);
      for (const n of names)
        expect(readFileSync(join(out, n), 'utf8'), n).toBe(readFileSync(join(GENERATED, n), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('provenance: bioimageio.spec brought by bioimageio.core 0.10.2, recorded in the schema too', () => {
    const r = spawnSync(
      PY,
      [
        '-c',
        'from importlib.metadata import version as v; print(v("bioimageio.core"), v("bioimageio.spec"))',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe(`0.10.2 ${BIOIMAGEIO_SPEC_VERSION}`);
    expect(schema05.$comment).toContain(`bioimageio.spec ${BIOIMAGEIO_SPEC_VERSION}`);
    expect(schema05.properties.format_version.const).toBe(SCHEMA_FORMAT_VERSION_0_5);
    expect(SCHEMA_FORMAT_VERSION_0_4).toMatch(/^0\.4\.\d+$/);
  });
});
