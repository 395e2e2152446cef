/**
 * FileSource.sha256: a source that already streamed a file through sha256 (bioimage-export package
 * verifies bundle files first) spares validation reading weights only to hash them. The hash it
 * reports is still compared with the description; content-checked files are still read.
 */
import { describe, expect, test } from 'vitest';
import { type FileSource, memorySource, sha256Hex, validatePackage } from '../../spec/index.js';
import { BASE_VARIANT, buildFixture, rdfYaml } from './helpers/model-fixture.js';

function withKnownHashes(hashes: Record<string, string>): { source: FileSource; reads: string[] } {
  const fx = buildFixture(BASE_VARIANT);
  const inner = memorySource({ ...Object.fromEntries(fx.files), 'rdf.yaml': rdfYaml(fx) }, 'fixture');
  const reads: string[] = [];
  return {
    reads,
    source: {
      label: inner.label,
      list: () => inner.list(),
      read: async (name) => {
        reads.push(name);
        return inner.read(name);
      },
      sha256: async (name) => hashes[name],
    },
  };
}

describe('FileSource.sha256 (hashes known to the source)', () => {
  test('non-ONNX weights are not read when the source knows their hash; the rest is', async () => {
    const fx = buildFixture(BASE_VARIANT);
    const ts = await sha256Hex(fx.files.get('model.torchscript.pt') as Uint8Array);
    const { source, reads } = withKnownHashes({ 'model.torchscript.pt': ts });
    const { report } = await validatePackage(source);
    expect(report.errors).toEqual([]);
    expect(reads).not.toContain('model.torchscript.pt');
    // the deepImageJ rule reads the ONNX opset; test tensors are decoded
    expect(reads).toContain('model.onnx');
    expect(reads).toContain('test_input.npy');
  });

  test('a known hash that differs from the description is a sha256 error', async () => {
    const { source } = withKnownHashes({ 'model.torchscript.pt': '0'.repeat(64) });
    const { report } = await validatePackage(source);
    expect(report.errors).toContainEqual(
      expect.objectContaining({ code: 'sha256', path: '/weights/torchscript/sha256' }),
    );
  });

  test('an unknown hash falls back to reading and hashing the file', async () => {
    const { source, reads } = withKnownHashes({});
    const { report } = await validatePackage(source);
    expect(report.errors).toEqual([]);
    expect(reads).toContain('model.torchscript.pt');
  });
});
