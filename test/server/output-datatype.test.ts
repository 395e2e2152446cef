/** Which committed bundles may answer UINT8 (value·255: only those whose channels all lie in [0, 1]) or FP16. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readBundle, unboundedChannels } from '../../exporters/index.js';
import type { CatalogEntry } from '../../server/catalog.js';
import { parseOutputDatatype } from '../../server/infer.js';
import { ROOT } from './helpers.js';

const entry = (id: string): CatalogEntry => ({ id, bundle: readBundle(join(ROOT, 'weights', id)) });
const where = 'parameters.output_datatype';

describe('output_datatype against the committed bundles', () => {
  test('LSD (sigmoid channels) takes UINT8; FP32 or nothing is float32', () => {
    const lsd = entry('lsd-mtlsd-demo');
    expect(unboundedChannels(lsd.bundle.output)).toEqual([]);
    expect(parseOutputDatatype('UINT8', where, lsd)).toBe('uint8');
    expect(parseOutputDatatype(undefined, where, lsd)).toBe('float32');
    expect(parseOutputDatatype('FP32', where, lsd)).toBe('float32');
  });

  test('Synful (vectors in nm) and Micron (linear LSD channels) refuse UINT8, naming the channels', () => {
    const synful = entry('synful-demo');
    expect(unboundedChannels(synful.bundle.output)).toEqual(['vector_z', 'vector_y', 'vector_x']);
    expect(() => parseOutputDatatype('UINT8', where, synful)).toThrow(/vector_z, vector_y, vector_x/);
    const micron = entry('micron-demo');
    expect(unboundedChannels(micron.bundle.output)).not.toContain('soft_mask');
    expect(unboundedChannels(micron.bundle.output)).toContain('lsd_offset_z');
    expect(() => parseOutputDatatype('UINT8', where, micron)).toThrow(/not in \[0, 1\]/);
    // FP16 keeps every channel (3 significant digits): allowed for any dense model.
    expect(parseOutputDatatype('FP16', where, synful)).toBe('float16');
    expect(parseOutputDatatype('FP16', where, micron)).toBe('float16');
  });

  test('Synister (class probabilities) and unknown datatypes are refused', () => {
    expect(() => parseOutputDatatype('UINT8', where, entry('synister-demo'))).toThrow(/class probabilities/);
    expect(() => parseOutputDatatype('FP16', where, entry('synister-demo'))).toThrow(/class probabilities/);
    expect(() => parseOutputDatatype('BF16', where, entry('lsd-mtlsd-demo'))).toThrow(
      /not an output datatype/,
    );
  });
});
