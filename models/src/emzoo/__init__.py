"""emzoo: PyTorch ports of the Funke-lab connectomics networks and their export to bundles."""

__version__ = "0.1.0"
