/**
 * Consumer profiles: ilastik (Neural Network Classification via tiktorch: torchscript/state-dict
 * weights, one input/one output, b,c,z,y,x) and fiji (deepImageJ 3 / JDLL then LabKit: rdf.yaml,
 * ONNX opset ≤ 18, sample TIFFs). The rules themselves live in spec/consumers.
 */
import { ExportError } from './errors.js';

export const PROFILES = ['ilastik', 'fiji'] as const;
export type Profile = (typeof PROFILES)[number];

/** `--for ilastik,fiji` → profiles; undefined/empty = undefined (the caller's default). */
export function parseProfiles(text: string | undefined): Profile[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const names = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = names.filter((n) => !(PROFILES as readonly string[]).includes(n));
  if (bad.length > 0) {
    throw new ExportError('InvalidArgument', `unknown consumer profile ${bad.join(', ')}`, {
      hint: `use --for with a comma list of: ${PROFILES.join(', ')}`,
    });
  }
  return [...new Set(names)] as Profile[];
}
