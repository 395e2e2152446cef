"""BatchNorm statistics recomputed on un-augmented inputs before export (``--recalibrate-bn``).

Training leaves BatchNorm with running means and variances of the *augmented* batches it saw
(momentum 0.1: mostly the last few dozen). Inference feeds clean crops, whose feature statistics
differ (elastic warps and intensity augmentation smooth and rescale the image). With
synister-small at 3500 iterations, eval-mode accuracy on the first training volume's own sites
was 0.30 with the checkpoint's statistics and 0.49 with statistics recomputed on clean crops of
those sites; held out, 0.20 and 0.42. Recomputing them (a cumulative average over every crop, no
gradient) changes no learnt weight, only the two buffers each BatchNorm layer keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from emzoo.errors import InvalidInput
from emzoo.evaluate.synister import presynaptic_crops
from emzoo.preset import Preset


def recalibrate_batchnorm(
    net: torch.nn.Module,
    preset: Preset,
    volumes: Sequence[Path],
    batch_size: int = 8,
    seed: int = 0,
) -> dict[str, int]:
    """Replaces every BatchNorm layer's running statistics by their average over clean crops of
    ``volumes`` (preprocessed as the bundle declares), in batches of ``batch_size`` in a fixed
    random order; leaves ``net`` in eval mode. Returns {volumes, crops, batches}."""
    from emzoo.data import read_volume
    from emzoo.export.test_tensors import preprocess

    layers = [m for m in net.modules() if isinstance(m, _BatchNorm)]
    if not layers:
        raise InvalidInput(
            f"--recalibrate-bn: {preset.name} has no BatchNorm layer",
            hint="only networks with BatchNorm (synister presets) keep statistics to recompute",
        )
    if preset.output_kind != "classes":
        raise InvalidInput(
            f"--recalibrate-bn: {preset.name} is a dense network; clean inputs are defined for "
            "the classifier (crops at presynaptic sites) only",
            hint="drop --recalibrate-bn",
        )
    crops = []
    for path in volumes:
        if not Path(path).exists():
            raise InvalidInput(
                f"--recalibrate-bn {path} does not exist", hint="pass training volumes"
            )
        crops.append(presynaptic_crops(read_volume(path), preset.valid_min))
    x = preprocess(np.concatenate(crops)[:, None], preset.preprocessing)
    if len(x) < batch_size:
        raise InvalidInput(
            f"--recalibrate-bn: {len(x)} presynaptic sites with a known transmitter, fewer than "
            f"one batch of {batch_size}",
            hint="pass the training volumes (emzoo synth stores transmitters)",
        )
    order = np.random.default_rng(seed).permutation(len(x))
    saved = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    net.train()
    batches = 0
    with torch.no_grad():
        for i in range(0, len(x) - batch_size + 1, batch_size):  # whole batches: equal weights
            net(torch.from_numpy(x[order[i : i + batch_size]]))
            batches += 1
    for m, momentum in zip(layers, saved, strict=True):
        m.momentum = momentum
    net.eval()
    return {"volumes": len(volumes), "crops": batches * batch_size, "batches": batches}
