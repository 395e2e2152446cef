import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type FileSource,
  folderSource,
  formatReportText,
  memorySource,
  sha256Hex,
  validatePackage,
  zipSource,
} from '../../spec/index.js';
import { writeTiff } from './helpers/image-write.js';
import {
  BASE_VARIANT,
  buildFixture,
  type Fixture,
  type Json,
  rdfYaml,
  writeFixture,
} from './helpers/model-fixture.js';
import { seededValues, writeNpy } from './helpers/npy-write.js';

const tmp = mkdtempSync(join(tmpdir(), 'spec-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function asMemory(fx: Fixture, rdfName = 'rdf.yaml'): FileSource {
  return memorySource({ ...Object.fromEntries(fx.files), [rdfName]: rdfYaml(fx) }, 'fixture');
}
function asZip(fx: Fixture): FileSource {
  const entries: Record<string, Uint8Array> = Object.fromEntries(fx.files);
  entries['rdf.yaml'] = new TextEncoder().encode(rdfYaml(fx));
  return zipSource(zipSync(entries, { level: 1 }), 'fixture.zip');
}
const edited = (edit: (fx: Fixture) => void): Fixture => {
  const fx = buildFixture(BASE_VARIANT);
  edit(fx);
  return fx;
};

describe('file sources', () => {
  test('folder, zip and memory list the same names and bytes', async () => {
    const fx = buildFixture(BASE_VARIANT);
    const dir = join(tmp, 'same');
    writeFixture(dir, fx);
    const sources = [folderSource(dir), asZip(fx), asMemory(fx)];
    const lists = await Promise.all(sources.map(async (s) => [...(await s.list())].sort()));
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    for (const s of sources) {
      expect(await s.read('./test_input.npy')).toEqual(fx.files.get('test_input.npy'));
      expect(await s.read('missing.npy')).toBeUndefined();
    }
    expect(await folderSource(dir).read('../same/rdf.yaml')).toBeUndefined();
  });

  test('a corrupt zip is a tagged FileSourceError', () => {
    expect(() => zipSource(new Uint8Array([1, 2, 3, 4]))).toThrow(/not a readable zip/);
  });

  test('sha256Hex agrees with node:crypto', async () => {
    const b = new TextEncoder().encode('emzoo');
    expect(await sha256Hex(b)).toBe(createHash('sha256').update(b).digest('hex'));
  });
});

describe('validatePackage', () => {
  test.each([
    [
      'folder',
      (fx: Fixture) => {
        const dir = join(tmp, 'ok-folder');
        writeFixture(dir, fx);
        return folderSource(dir);
      },
    ],
    ['zip', asZip],
    ['memory', (fx: Fixture) => asMemory(fx)],
  ])('a valid package from a %s passes with IO checks', async (_kind, make) => {
    const { report, descr } = await validatePackage(make(buildFixture(BASE_VARIANT)));
    expect(report.errors).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks).toMatchObject({ schema: true, semantic: true, files: true });
    expect(report.rdfName).toBe('rdf.yaml');
    expect(descr?.name).toBe('EM membrane UNet 3D');
  });

  const retensor = (fx: Fixture, name: string, shape: number[]) =>
    fx.files.set(
      name,
      writeNpy(
        seededValues(
          shape.reduce((a, b) => a * b, 1),
          3,
          0.1,
          1,
        ),
        shape,
      ),
    );
  test.each<[string, (fx: Fixture) => void, string, string]>([
    [
      'missing test input',
      (fx) => fx.files.delete('test_input.npy'),
      '/inputs/0/test_tensor/source',
      'file-missing',
    ],
    ['missing weights', (fx) => fx.files.delete('model.onnx'), '/weights/onnx/source', 'file-missing'],
    ['missing cover', (fx) => fx.files.delete('cover.png'), '/covers/0', 'file-missing'],
    [
      'sha256 mismatch',
      (fx) => (fx.rdf.weights.torchscript.sha256 = 'a'.repeat(64)),
      '/weights/torchscript/sha256',
      'sha256',
    ],
    [
      'file changed after hashing',
      (fx) => (fx.rdf.inputs[0].test_tensor.sha256 = createHash('sha256').update('old').digest('hex')),
      '/inputs/0/test_tensor/sha256',
      'sha256',
    ],
    [
      'README not UTF-8',
      (fx) => fx.files.set('README.md', Uint8Array.from([0x23, 0x20, 0xff, 0xfe])),
      '/documentation',
      'documentation',
    ],
    [
      'documentation not .md',
      (fx) => {
        fx.files.set('README.rst', new TextEncoder().encode('Validation'));
        fx.rdf.documentation = 'README.rst';
      },
      '/documentation',
      'file-suffix',
    ],
    [
      'test tensor not npy',
      (fx) => fx.files.set('test_output.npy', new TextEncoder().encode('nope')),
      '/outputs/0/test_tensor',
      'npy',
    ],
    [
      'test tensor rank',
      (fx) => retensor(fx, 'test_input.npy', [1, 12, 24, 16]),
      '/inputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'test tensor size not on the grid',
      (fx) => {
        retensor(fx, 'test_input.npy', [1, 1, 12, 25, 16]);
        retensor(fx, 'test_output.npy', [1, 3, 12, 25, 16]);
      },
      '/inputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'test output size differs from the reference',
      (fx) => retensor(fx, 'test_output.npy', [1, 3, 12, 24, 24]),
      '/outputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'test output channel count',
      (fx) => retensor(fx, 'test_output.npy', [1, 2, 12, 24, 16]),
      '/outputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'test tensor all near zero',
      (fx) =>
        fx.files.set(
          'test_output.npy',
          writeNpy(seededValues(3 * 12 * 24 * 16, 1, -5e-5, 5e-5), [1, 3, 12, 24, 16]),
        ),
      '/outputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'integer tensor declared, float test data',
      (fx) => {
        fx.rdf.outputs[0].data = { type: 'uint8' };
      },
      '/outputs/0/test_tensor',
      'test-tensor',
    ],
    [
      'sample tensor rank too low',
      (fx) => fx.files.set('sample_input.tif', writeTiff(1, 24, 16, seededValues(384, 4))),
      '/inputs/0/sample_tensor',
      'test-tensor',
    ],
    [
      'sample tensor unreadable',
      (fx) => fx.files.set('sample_output.tif', new TextEncoder().encode('II*?')),
      '/outputs/0/sample_tensor',
      'test-tensor',
    ],
    [
      'reproducibility tolerance above 1% of the output max',
      (fx) => (fx.rdf.config = { bioimageio: { reproducibility_tolerance: [{ absolute_tolerance: 0.1 }] } }),
      '/config/bioimageio/reproducibility_tolerance/0/absolute_tolerance',
      'test-tensor',
    ],
  ])('%s → error', async (_name, edit, path, code) => {
    const { report } = await validatePackage(asMemory(edited(edit)));
    expect(report.ok).toBe(false);
    expect(report.errors).toContainEqual(expect.objectContaining({ path, code }));
  });

  test('a float16 test tensor for a float32 tensor is rejected; uint8 is accepted (as bioimageio.spec does)', async () => {
    const f16 = edited((fx) =>
      fx.files.set(
        'test_input.npy',
        writeNpy(seededValues(12 * 24 * 16, 2, -3, 3), [1, 1, 12, 24, 16], 'float16'),
      ),
    );
    expect((await validatePackage(asMemory(f16))).report.errors).toContainEqual(
      expect.objectContaining({ path: '/inputs/0/test_tensor' }),
    );
    const u8 = edited((fx) =>
      fx.files.set(
        'test_input.npy',
        writeNpy(seededValues(12 * 24 * 16, 2, 0, 255).map(Math.floor), [1, 1, 12, 24, 16], 'uint8'),
      ),
    );
    expect((await validatePackage(asMemory(u8))).report.ok).toBe(true);
  });

  test('README without a Validation heading and remote files are warnings', async () => {
    const fx = edited((f) => {
      f.files.set('README.md', new TextEncoder().encode('# Model\n'));
      f.rdf.covers = ['https://example.org/cover.png'];
    });
    const { report } = await validatePackage(asMemory(fx));
    expect(report.ok).toBe(true);
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ path: '/documentation', code: 'documentation' }),
    );
    expect(report.warnings).toContainEqual(
      expect.objectContaining({ path: '/covers/0', code: 'not-checked' }),
    );
  });

  test('without IO checks, files are not looked at', async () => {
    const fx = edited((f) => f.files.clear());
    const { report } = await validatePackage(asMemory(fx), { ioChecks: false });
    expect(report.ok).toBe(true);
    expect(report.checks.files).toBe(false);
  });

  test('no rdf.yaml, broken YAML and non-UTF-8 are reported, not thrown', async () => {
    expect((await validatePackage(memorySource({ 'a.txt': 'x' }))).report.errors[0]?.code).toBe(
      'file-missing',
    );
    expect((await validatePackage(memorySource({ 'rdf.yaml': 'a: [' }))).report.errors[0]?.code).toBe('yaml');
    expect(
      (await validatePackage(memorySource({ 'rdf.yaml': Uint8Array.from([0xff, 0xfe, 0x00]) }))).report
        .errors[0]?.code,
    ).toBe('yaml');
  });

  test('bioimageio.yaml is found when there is no rdf.yaml', async () => {
    const fx = buildFixture(BASE_VARIANT);
    const { report } = await validatePackage(asMemory(fx, 'bioimageio.yaml'));
    expect(report.rdfName).toBe('bioimageio.yaml');
    expect(report.ok).toBe(true);
  });

  test('the report prints as text and serialises as JSON', async () => {
    const fx = edited((f) => {
      f.files.delete('model.onnx');
      (f.rdf as Json).name = 'bad.name';
    });
    const { report } = await validatePackage(asMemory(fx));
    const text = formatReportText(report);
    expect(text).toMatch(/^INVALID {2}fixture\/rdf.yaml/);
    expect(text).toContain('/weights/onnx/source  [file-missing]');
    expect(text).toContain('hint: ');
    const json = JSON.parse(JSON.stringify(report));
    expect(json.errors).toHaveLength(report.errors.length);
    expect(json.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['/name', '/weights/onnx/source']),
    );
  });
});
