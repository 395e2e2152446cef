"""Network ports. unet.py and vgg.py are self-contained (copied verbatim into bundles)."""

from emzoo.nets.unet import ConvPass, LsdNet, MicronNet, SynfulNet, UNet, UpConv
from emzoo.nets.vgg import SynisterNet, Vgg3D

__all__ = ["ConvPass", "LsdNet", "MicronNet", "SynfulNet", "SynisterNet", "UNet", "UpConv", "Vgg3D"]
