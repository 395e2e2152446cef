"""EM volumes: the in-memory structure, synthetic generation, zarr/N5 and CREMI HDF5 I/O."""

from pathlib import Path

from emzoo.data.cremi_io import read_cremi
from emzoo.data.volume import EMVolume, Microtubules, Synapses
from emzoo.data.zarr_io import read_zarr, write_zarr
from emzoo.errors import InvalidInput


def read_volume(path: str | Path) -> EMVolume:
    """Read a zarr / N5 container or a CREMI-style HDF5 file, chosen by its suffix."""
    path = Path(path)
    if path.suffix in (".zarr", ".n5", ""):
        return read_zarr(path)
    if path.suffix in (".hdf", ".h5", ".hdf5"):
        return read_cremi(path)
    raise InvalidInput(
        f"unknown volume format {path.suffix!r} ({path})",
        hint="use a .zarr, .n5 or .hdf/.h5/.hdf5 file",
    )


__all__ = [
    "EMVolume",
    "Microtubules",
    "Synapses",
    "read_cremi",
    "read_volume",
    "read_zarr",
    "write_zarr",
]
