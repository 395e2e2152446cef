/**
 * What ilastik (1.4.x, Neural Network Classification via tiktorch) needs; each function returns
 * every violation. See ../../docs or the bioimageio reference sheet §4.
 */

import { axisId, axisSize, isDataDependentSize } from '../axes.js';
import { type Issue, issue, pointer, warning } from '../errors.js';
import type { ModelDescr } from '../model.js';
import { inputId } from '../tensors.js';
import { newerThan054 } from './newer-fields.js';

const ILASTIK_AXIS_IDS: ReadonlySet<string> = new Set(['batch', 'time', 'channel', 'z', 'y', 'x']);

export function checkIlastik(d: ModelDescr): Issue[] {
  const out: Issue[] = [];
  const err = (path: string, message: string, hint: string) =>
    out.push(issue('ilastik', path, message, hint));

  if (!d.weights.torchscript && !d.weights.pytorch_state_dict) {
    err(
      '/weights',
      'ilastik runs only torchscript or pytorch_state_dict weights; none is present',
      'Add torchscript weights (or a pytorch_state_dict with its architecture).',
    );
  }
  if (d.inputs.length !== 1)
    err(
      '/inputs',
      `ilastik needs exactly one input, found ${d.inputs.length}`,
      'Export a single input tensor.',
    );
  if (d.outputs.length !== 1)
    err(
      '/outputs',
      `ilastik needs exactly one output, found ${d.outputs.length}`,
      'Concatenate heads along channels into one output tensor.',
    );

  for (const [kind, tensors] of [
    ['inputs', d.inputs],
    ['outputs', d.outputs],
  ] as const) {
    tensors.forEach((t, i) => {
      t.axes.forEach((a, j) => {
        const id = axisId(a);
        if (!ILASTIK_AXIS_IDS.has(id))
          err(
            pointer(kind, i, 'axes', j, 'id'),
            `axis id '${id}' is not one of batch, time, channel, z, y, x`,
            'Rename the axis (space axes are z, y, x).',
          );
        if (a.type === 'channel' && id !== 'channel')
          err(
            pointer(kind, i, 'axes', j, 'id'),
            `channel axis is named '${id}', ilastik looks for 'channel'`,
            "Use id 'channel' (or leave the id out).",
          );
        if (kind === 'outputs' && isDataDependentSize(axisSize(a)))
          err(
            pointer(kind, i, 'axes', j, 'size'),
            'ilastik cannot tile a data-dependent output size',
            'Use a size reference to the input axis.',
          );
      });
    });
  }
  const input = d.inputs[0];
  const output = d.outputs[0];
  if (input) {
    if (!input.axes.some((a) => a.type === 'batch'))
      err(
        pointer('inputs', 0, 'axes'),
        `input '${inputId(input)}' has no batch axis; ilastik always adds one`,
        'Add {type: batch} as the first axis.',
      );
    if (!input.axes.some((a) => a.type === 'channel'))
      err(
        pointer('inputs', 0, 'axes'),
        'input has no channel axis',
        'Add {type: channel, channel_names: [...]}.',
      );
  }
  if (output) {
    if (!output.axes.some((a) => a.type === 'channel'))
      err(
        pointer('outputs', 0, 'axes'),
        "output has no 'channel' axis; ilastik shows one map per channel",
        'Add {type: channel, channel_names: [...]} to the output.',
      );
    const spaces = output.axes.filter((a) => a.type === 'space').length;
    if (spaces < 2)
      err(
        pointer('outputs', 0, 'axes'),
        `output has ${spaces} space axes, ilastik needs at least 2`,
        'Keep y and x (and z for 3D) in the output.',
      );
  }
  if (input && output) {
    const ins = input.axes.map(axisId);
    const outs = output.axes.map(axisId);
    if (ins.join(',') !== outs.join(',')) {
      err(
        pointer('outputs', 0, 'axes'),
        `output axes [${outs.join(', ')}] differ from input axes [${ins.join(', ')}]; ilastik reorders the output by the input's axes`,
        'Give the output the same axis ids in the same order as the input (b, c, z, y, x).',
      );
    }
  }
  // ilastik 1.4.1 (bioimageio.spec ≤ 0.5.4) rejects unknown keys; 1.4.2 reads newer ones.
  out.push(...newerThan054(d, 'warning', 'ilastik 1.4.1 rejects it'));
  if (d.weights.pytorch_state_dict && !d.weights.torchscript) {
    out.push(
      warning(
        'ilastik',
        '/weights/pytorch_state_dict',
        'pytorch_state_dict weights need the architecture importable in the tiktorch environment',
        'Ship torchscript weights too; ilastik prefers them.',
      ),
    );
  }
  return out;
}
