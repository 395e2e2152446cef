/** One line per output channel for the README, from the channel name and bundle.yaml's semantics. */

const AXIS: Record<string, string> = { z: 'z', y: 'y', x: 'x' };
const ACTIVATION: Record<string, string> = {
  sigmoid: 'in [0, 1]',
  softmax: 'in [0, 1], sums to 1 over channels',
  clip01: 'clipped to [0, 1]',
  linear: 'unbounded',
};

type Semantics = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function channelMeaning(name: string, index: number, s: Semantics, kind: 'dense' | 'classes'): string {
  if (kind === 'classes') return `probability of the class \`${name}\``;
  const heads = (s.heads ?? {}) as Record<string, unknown>;
  const affs = list(heads.affs);
  let what = '';
  const affIndex = affs.indexOf(name);
  const offset = list(s.affinity_offsets)[affIndex];
  if (affIndex >= 0 && Array.isArray(offset)) {
    what = `affinity to the voxel at offset (z, y, x) = (${offset.join(', ')})`;
  } else if (name.startsWith('lsd_offset_')) {
    what = `local shape descriptor: mean offset of the local object along ${AXIS[name.slice(-1)] ?? name.slice(-1)}`;
  } else if (name.startsWith('lsd_cov_')) {
    what = `local shape descriptor: covariance ${name.slice(-2, -1)}${name.slice(-1)} of the local object`;
  } else if (name.startsWith('lsd_pearson_')) {
    what = `local shape descriptor: Pearson correlation ${name.slice(-2, -1)}–${name.slice(-1)} of the local object`;
  } else if (name === 'lsd_size') {
    what = 'local shape descriptor: size of the local object';
  } else if (list(s.vector_channels).includes(name)) {
    what = `vector to the pre-synaptic site, ${name.slice(-1)} component${typeof s.vector_units === 'string' ? ` (${s.vector_units})` : ''}`;
  } else if (name === s.indicator_channel) {
    what = 'post-synaptic site indicator';
  } else if (name === 'soft_mask') {
    what = 'microtubule soft mask';
  } else {
    what = name.replaceAll('_', ' ');
  }
  const act = list(s.channel_activations)[index];
  return typeof act === 'string' && ACTIVATION[act] ? `${what} (${ACTIVATION[act]})` : what;
}

const BOUNDED = new Set(['sigmoid', 'softmax', 'clip01']);

/**
 * Output channels not bounded to [0, 1] by their activation (semantics.channel_activations):
 * value·255 as uint8 would clamp them. undefined when the activations are not recorded.
 */
export function unboundedChannels(output: {
  readonly channel_names: readonly string[];
  readonly semantics?: Semantics;
}): string[] | undefined {
  const acts = output.semantics?.channel_activations;
  if (!Array.isArray(acts) || acts.length !== output.channel_names.length) return undefined;
  return output.channel_names.filter((_, i) => !BOUNDED.has(acts[i] as string));
}
