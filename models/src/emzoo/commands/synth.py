"""emzoo synth: write a synthetic EM volume with ground truth for all four tasks to zarr."""

from __future__ import annotations

import argparse
import json

from emzoo.errors import InvalidInput

NAME = "synth"
HELP = (
    "generate a synthetic EM volume (neurites, membranes, synapses with transmitter-specific "
    "vesicles, microtubules) with labels, synaptic partners and tracks, and write it as zarr"
)


def _shape(text: str) -> tuple[int, int, int]:
    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 4:
        raise InvalidInput(
            f"--shape {text!r} is not Z,Y,X with sizes >= 4", hint="e.g. --shape 40,256,256"
        )
    return shape  # type: ignore[return-value]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        required=True,
        help="zarr container to write (replaced if it exists), e.g. data.zarr",
    )
    p.add_argument("--shape", required=True, help="volume size in voxels, Z,Y,X (e.g. 40,256,256)")
    p.add_argument(
        "--mode",
        default="anisotropic",
        help="anisotropic: serial-section TEM at 40x4x4 nm; isotropic: FIB-SEM at 8 nm",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="random seed; the same seed gives the same volume"
    )
    p.add_argument(
        "--synapse-density", type=float, default=15.0, help="presynaptic sites per cubic micrometre"
    )
    p.add_argument("--json", action="store_true", help="print a summary as JSON")


def run(args: argparse.Namespace) -> int:
    from emzoo.data import write_zarr
    from emzoo.data.synth import generate_volume

    volume = generate_volume(
        _shape(args.shape), args.mode, args.seed, synapse_density=args.synapse_density
    )
    path = write_zarr(volume, args.out)
    summary = {
        "out": str(path),
        "mode": volume.attrs["mode"],
        "seed": args.seed,
        "shape": list(volume.shape),
        "voxel_size": list(volume.voxel_size),
        "neurons": len(volume.neuron_ids),
        "synaptic_partners": len(volume.synapses),
        "presynaptic_sites": len(set(volume.synapses.pre_ids.tolist())),
        "microtubules": len(set(volume.microtubules.node_tracks.tolist()))
        if volume.microtubules
        else 0,
        "seconds": volume.attrs["seconds"],
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"wrote {path}: {summary['mode']} {tuple(summary['shape'])} at {tuple(summary['voxel_size'])} nm, "
            f"{summary['neurons']} neurons, {summary['synaptic_partners']} synaptic partners "
            f"({summary['presynaptic_sites']} T-bars), {summary['microtubules']} microtubules "
            f"in {summary['seconds']:.1f} s"
        )
    return 0
