"""The preset catalogue: paper configurations, isotropic FIB-SEM variants and small demo nets.

Imported lazily by emzoo.registry. Numbers come from the originals (see docs/models/*.md and
the reference sheet); valid input sizes are computed from the network arithmetic, not typed in.
"""

from __future__ import annotations

from typing import Any

from emzoo.nets.shapes import valid_input
from emzoo.preset import Citation, Preset
from emzoo.registry import register

LSD_PAPER = Citation(
    "Sheridan A, Nguyen TM, Deb D, et al. Local shape descriptors for neuron segmentation. "
    "Nature Methods 20, 295-303 (2023).",
    "10.1038/s41592-022-01711-z",
)
SYNFUL_PAPER = Citation(
    "Buhmann J, Sheridan A, Malin-Mayor C, et al. Automatic detection of synaptic partners in "
    "a whole-brain Drosophila electron microscopy data set. Nature Methods 18, 771-774 (2021).",
    "10.1038/s41592-021-01183-7",
)
SYNISTER_PAPER = Citation(
    "Eckstein N, Bates AS, Champion A, et al. Neurotransmitter classification from electron "
    "microscopy images at synaptic sites in Drosophila melanogaster. Cell 187(10), "
    "2574-2594 (2024).",
    "10.1016/j.cell.2024.03.016",
)
MICRON_PAPER = Citation(
    "Eckstein N, Buhmann J, Cook M, Funke J. Microtubule tracking in electron microscopy "
    "volumes. MICCAI 2020, LNCS 12265, 99-108 (arXiv:2009.08371).",
    "10.1007/978-3-030-59722-1_10",
)

# LSD channel order of lsd.train.local_shape_descriptor (3D): mean offset, covariance
# diagonal, Pearson off-diagonals, size.
LSD_COMPONENTS = (
    "lsd_offset_z",
    "lsd_offset_y",
    "lsd_offset_x",
    "lsd_cov_zz",
    "lsd_cov_yy",
    "lsd_cov_xx",
    "lsd_pearson_zy",
    "lsd_pearson_zx",
    "lsd_pearson_yx",
    "lsd_size",
)
STANDARD_NEIGHBORHOOD = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))
LONG_RANGE_NEIGHBORHOOD = (
    (-1, 0, 0),
    (0, -1, 0),
    (0, 0, -1),
    (-3, 0, 0),
    (0, -3, 0),
    (0, 0, -3),
    (-5, 0, 0),
    (0, -9, 0),
    (0, 0, -9),
    (-15, 0, 0),
    (0, -27, 0),
    (0, 0, -27),
)
SYNISTER_CLASSES = ("gaba", "acetylcholine", "glutamate", "serotonin", "octopamine", "dopamine")

FIB25_FACTORS = [[2, 2, 2], [2, 2, 2], [3, 3, 3]]
CREMI_FACTORS = [[1, 3, 3], [1, 3, 3], [3, 3, 3]]  # zebrafinch LSD and Synful
MICRON_FACTORS = [[1, 3, 3], [1, 3, 3], [1, 3, 3]]
SMALL_FACTORS = [[2, 2, 2], [2, 2, 2]]


def _aff_names(offsets) -> tuple[str, ...]:
    # "aff_z1" = affinity to the voxel 1 step back along z; names stay identifiers.
    names = []
    for off in offsets:
        axis = next(i for i, v in enumerate(off) if v)
        names.append(f"aff_{'zyx'[axis]}{abs(off[axis])}")
    return tuple(names)


def _unet_kwargs(
    num_fmaps: int, inc: int, factors, *, crop_to_factor: bool = False, **extra: Any
) -> dict[str, Any]:
    levels = len(factors) + 1
    return {
        "num_fmaps": num_fmaps,
        "fmap_inc_factors": inc,
        "downsample_factors": factors,
        "kernel_size_down": [[3, 3]] * levels,
        "kernel_size_up": [[3, 3]] * (levels - 1),
        "crop_to_factor": crop_to_factor,
        **extra,
    }


def _dense(**fields: Any) -> Preset:
    vmin, step = valid_input(fields["kwargs"])
    return register(Preset(valid_min=vmin, valid_step=step, **fields))


def _lsd(
    name: str,
    variant: str,
    description: str,
    *,
    unet: dict[str, Any],
    num_lsds: int,
    offsets,
    voxel,
    train,
    predict,
    sigma_nm: float | None,
    in_channels: int = 1,
    paper: bool = True,
    extra_semantics: dict[str, Any] | None = None,
) -> Preset:
    kwargs = {"num_lsds": num_lsds, "num_affinities": len(offsets), "in_channels": in_channels}
    kwargs.update(unet)
    lsd_names = LSD_COMPONENTS[:num_lsds]
    outputs = lsd_names + _aff_names(offsets)
    semantics: dict[str, Any] = {
        "channel_activations": ["sigmoid"] * len(outputs),
        "heads": {
            **({"lsds": list(lsd_names)} if num_lsds else {}),
            **({"affs": list(_aff_names(offsets))} if offsets else {}),
        },
    }
    if offsets:
        semantics["affinity_offsets"] = [list(o) for o in offsets]
    if num_lsds:
        semantics["lsd_components"] = list(lsd_names)
        semantics["lsd_sigma_nm"] = sigma_nm
        semantics["lsd_downsample"] = 2
    semantics.update(extra_semantics or {})
    return _dense(
        name=name,
        task="lsd",
        variant=variant,
        description=description,
        model_class="emzoo.nets.unet.LsdNet",
        kwargs=kwargs,
        in_channels=in_channels,
        input_channel_names=("raw",) if in_channels == 1 else ("raw", *LSD_COMPONENTS),
        output_channel_names=outputs,
        voxel_size_nm=voxel,
        train_input_shape=train,
        predict_input_shape=predict,
        semantics=semantics,
        citations=(LSD_PAPER,),
        paper=paper,
    )


# ---- LSD, FIB-25 (8 nm isotropic): mala.unet(raw, 12, 6, [[2,2,2],[2,2,2],[3,3,3]]) --------
_FIB = {"voxel": (8.0, 8.0, 8.0), "train": (196, 196, 196), "predict": (268, 268, 268)}
_lsd(
    "lsd-fib25-vanilla",
    "fib25-vanilla",
    "LSD paper baseline on FIB-25: 3 nearest-neighbour affinities (sigmoid).",
    unet=_unet_kwargs(12, 6, FIB25_FACTORS),
    num_lsds=0,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=None,
    **_FIB,
)
_lsd(
    "lsd-fib25-lsd",
    "fib25-lsd",
    "LSD paper LSD-only net on FIB-25: 10 local shape descriptors (sigmoid); stage 1 of ACRLSD.",
    unet=_unet_kwargs(12, 6, FIB25_FACTORS),
    num_lsds=10,
    offsets=(),
    sigma_nm=80.0,
    **_FIB,
)
_lsd(
    "lsd-fib25-mtlsd",
    "fib25-mtlsd",
    "LSD paper multitask net on FIB-25: 10 LSDs + 3 affinities from one 14-channel map.",
    unet=_unet_kwargs(12, 6, FIB25_FACTORS, num_fmaps_out=14),
    num_lsds=10,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=80.0,
    **_FIB,
)
_lsd(
    "lsd-fib25-acrlsd",
    "fib25-acrlsd",
    "LSD paper auto-context stage 2 on FIB-25: input = raw (centre-cropped) + 10 LSDs from "
    "lsd-fib25-lsd run on 304^3; output 3 affinities.",
    unet=_unet_kwargs(12, 6, FIB25_FACTORS),
    num_lsds=0,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=None,
    in_channels=11,
    voxel=_FIB["voxel"],
    train=_FIB["train"],
    predict=(364, 364, 364),
    extra_semantics={
        "autocontext": {
            "stage1_preset": "lsd-fib25-lsd",
            "stage1_train_input_shape": [304, 304, 304],
            "input_channels": "raw centre-cropped to the LSD shape, then the 10 LSD channels",
        }
    },
)

# ---- LSD, zebrafinch (20x9x9 nm): mala.unet(raw, 12, 5, [[1,3,3],[1,3,3],[3,3,3]]) ---------
_ZF = {"voxel": (20.0, 9.0, 9.0), "train": (84, 268, 268), "predict": (96, 484, 484)}
_lsd(
    "lsd-zebrafinch-baseline",
    "zebrafinch-baseline",
    "LSD paper baseline on zebrafinch: 3 nearest-neighbour affinities (sigmoid).",
    unet=_unet_kwargs(12, 5, CREMI_FACTORS),
    num_lsds=0,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=None,
    **_ZF,
)
_lsd(
    "lsd-zebrafinch-mtlsd",
    "zebrafinch-mtlsd",
    "LSD paper multitask net on zebrafinch: 10 LSDs + 3 affinities from one 14-channel map.",
    unet=_unet_kwargs(12, 5, CREMI_FACTORS, num_fmaps_out=14),
    num_lsds=10,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=120.0,
    **_ZF,
)
_lsd(
    "lsd-zebrafinch-long-range",
    "zebrafinch-long-range",
    "LSD paper long-range affinity net on zebrafinch: 12 affinities (offsets up to 27 voxels).",
    unet=_unet_kwargs(12, 5, CREMI_FACTORS),
    num_lsds=0,
    offsets=LONG_RANGE_NEIGHBORHOOD,
    sigma_nm=None,
    **_ZF,
)

# ---- LSD, small demo nets (8 nm isotropic synthetic data) ---------------------------------
_SMALL = {"voxel": (8.0, 8.0, 8.0), "train": (60, 60, 60), "predict": (76, 76, 76)}
_lsd(
    "lsd-small-vanilla",
    "small-vanilla",
    "Small demo: mala-topology U-Net (8 fmaps x2, 3 levels), 3 affinities.",
    unet=_unet_kwargs(8, 2, SMALL_FACTORS),
    num_lsds=0,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=None,
    paper=False,
    **_SMALL,
)
_lsd(
    "lsd-small-mtlsd",
    "small-mtlsd",
    "Small demo: mala-topology U-Net (8 fmaps x2, 3 levels, top 14), 10 LSDs + 3 affinities.",
    unet=_unet_kwargs(8, 2, SMALL_FACTORS, num_fmaps_out=14),
    num_lsds=10,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=40.0,
    paper=False,
    **_SMALL,
)

_lsd(
    "lsd-small-lsd",
    "small-lsd",
    "Small demo: mala-topology U-Net (8 fmaps x2, 3 levels), 10 LSDs; stage 1 of lsd-small-acrlsd.",
    unet=_unet_kwargs(8, 2, SMALL_FACTORS),
    num_lsds=10,
    offsets=(),
    sigma_nm=40.0,
    paper=False,
    **_SMALL,
)
_lsd(
    "lsd-small-acrlsd",
    "small-acrlsd",
    "Small demo auto-context stage 2: input = raw (centre-cropped) + 10 LSDs from lsd-small-lsd "
    "run on 100^3; output 3 affinities.",
    unet=_unet_kwargs(8, 2, SMALL_FACTORS),
    num_lsds=0,
    offsets=STANDARD_NEIGHBORHOOD,
    sigma_nm=None,
    in_channels=11,
    paper=False,
    extra_semantics={
        "autocontext": {
            "stage1_preset": "lsd-small-lsd",
            "stage1_train_input_shape": [100, 100, 100],
            "input_channels": "raw centre-cropped to the LSD shape, then the 10 LSD channels",
        }
    },
    **_SMALL,
)


# ---- Synful: funlib.learn.tensorflow@0712fee unet(raw, 4, 5, [[1,3,3],[1,3,3],[3,3,3]]) -----
def _synful(
    name: str,
    variant: str,
    description: str,
    *,
    unet: dict[str, Any],
    num_heads: int,
    voxel,
    train,
    predict,
    paper: bool,
    training: dict[str, float] | None = None,
) -> Preset:
    return _dense(
        name=name,
        task="synful",
        variant=variant,
        description=description,
        model_class="emzoo.nets.unet.SynfulNet",
        kwargs={"num_heads": num_heads, "in_channels": 1, **unet},
        in_channels=1,
        input_channel_names=("raw",),
        output_channel_names=("syn_indicator", "vector_z", "vector_y", "vector_x"),
        voxel_size_nm=voxel,
        train_input_shape=train,
        predict_input_shape=predict,
        semantics={
            "channel_activations": ["sigmoid", "linear", "linear", "linear"],
            "heads": {
                "partner_vector": ["vector_z", "vector_y", "vector_x"],
                "syn_indicator": ["syn_indicator"],
            },
            "head_decoder": {"partner_vector": 0, "syn_indicator": num_heads - 1},
            "indicator_channel": "syn_indicator",
            "vector_channels": ["vector_z", "vector_y", "vector_x"],
            "vector_units": "nm",
            "vector_meaning": "pre-synaptic site minus this (post-synaptic) voxel, z/y/x",
            **(training or {}),
        },
        citations=(SYNFUL_PAPER,),
        paper=paper,
    )


_CREMI = {"voxel": (40.0, 4.0, 4.0), "train": (42, 430, 430), "predict": (90, 1132, 1132)}
_synful(
    "synful-cremi-st",
    "cremi-st",
    "Synful paper 'small' net, single task decoder (ST): 1 decoder feeds both heads.",
    unet=_unet_kwargs(4, 5, CREMI_FACTORS),
    num_heads=1,
    paper=True,
    **_CREMI,
)
_synful(
    "synful-cremi-mt",
    "cremi-mt",
    "Synful paper 'small' net with two decoders (MT, 'dh_unet'): vectors from decoder 0, "
    "post-synaptic indicator from decoder 1.",
    unet=_unet_kwargs(4, 5, CREMI_FACTORS),
    num_heads=2,
    paper=True,
    **_CREMI,
)
# 8 nm isotropic FIB-SEM: [2,2,2],[2,2,2],[3,3,3] keeps every level isotropic; 220^3 voxels =
# 1.76 um, the physical context of the CREMI net (42x430x430 at 40x4x4 = 1.68x1.72x1.72 um).
_synful(
    "synful-fibsem-iso",
    "fibsem-iso",
    "Synful two-decoder net for 8 nm isotropic FIB-SEM: isotropic downsampling "
    "[2,2,2],[2,2,2],[3,3,3], input 220^3 (1.76 um, the CREMI net's physical context).",
    unet=_unet_kwargs(4, 5, FIB25_FACTORS),
    num_heads=2,
    voxel=(8.0, 8.0, 8.0),
    train=(220, 220, 220),
    predict=(328, 328, 328),
    paper=False,
)
_synful(
    "synful-small",
    "small-mt",
    "Small demo: two-decoder Synful net (6 fmaps x2, 3 levels); indicator balls of 40 nm and "
    "the vector loss scaled by 1e-3 so a few thousand CPU iterations suffice.",
    unet=_unet_kwargs(6, 2, SMALL_FACTORS),
    num_heads=2,
    voxel=(8.0, 8.0, 8.0),
    train=(60, 60, 60),
    predict=(76, 76, 76),
    paper=False,
    # the originals' 10 nm ball is ~7 voxels at 8 nm and their unscaled vector MSE (~1e3 nm^2)
    # outweighs the mask loss in the shared encoder; both need ~1e5 iterations to sort out
    training={"mask_radius_nm": 40.0, "d_loss_scale": 1e-3},
)


# ---- Micron: funlib.learn.tensorflow master unet(raw, 12, 5, [[1,3,3]]*3), crop_to_factor ----
def _micron(name: str, variant: str, description: str, *, unet, voxel, train, predict, paper):
    return _dense(
        name=name,
        task="micron",
        variant=variant,
        description=description,
        model_class="emzoo.nets.unet.MicronNet",
        kwargs={"in_channels": 1, "num_outputs": 10, **unet},
        in_channels=1,
        input_channel_names=("raw",),
        output_channel_names=(*LSD_COMPONENTS[:9], "soft_mask"),
        voxel_size_nm=voxel,
        train_input_shape=train,
        predict_input_shape=predict,
        semantics={
            "channel_activations": ["linear"] * 9 + ["clip01"],
            "heads": {"lsds": [*LSD_COMPONENTS[:9], "soft_mask"]},
            "soft_mask_channel": 9,
            "derivative_channels": list(range(9)),
            "lsd_sigma_nm": 4.0,
            "nms": {"window": [1, 10, 10], "threshold": 0.5},
        },
        citations=(MICRON_PAPER,),
        paper=paper,
    )


_micron(
    "micron-cremi",
    "cremi",
    "Micron paper net: 10 linear channels (9 LSD-like derivatives + soft mask, clipped to "
    "[0, 1] in the exported form).",
    unet=_unet_kwargs(12, 5, MICRON_FACTORS, crop_to_factor=True),
    voxel=(40.0, 4.0, 4.0),
    train=(32, 322, 322),
    predict=(79, 808, 808),
    paper=True,
)
_micron(
    "micron-small",
    "small",
    "Small demo: Micron net with crop_to_factor (6 fmaps x2, factors [1,2,2],[1,3,3]).",
    # [1,3,3],[1,3,3] would give an odd input - output (79) in y/x: no symmetric halo
    unet=_unet_kwargs(6, 2, [[1, 2, 2], [1, 3, 3]], crop_to_factor=True),
    voxel=(40.0, 4.0, 4.0),
    train=(26, 96, 96),
    predict=(32, 120, 120),
    paper=False,
)


# ---- Synister: funlib.learn.torch Vgg3D ------------------------------------------------------
def _synister(name: str, variant: str, description: str, *, kwargs, voxel, paper) -> Preset:
    size = tuple(kwargs["input_size"])
    return register(
        Preset(
            name=name,
            task="synister",
            variant=variant,
            description=description,
            model_class="emzoo.nets.vgg.SynisterNet",
            kwargs=kwargs,
            in_channels=1,
            input_channel_names=("raw",),
            output_channel_names=SYNISTER_CLASSES,
            voxel_size_nm=voxel,
            valid_min=size,
            valid_step=(0, 0, 0),
            train_input_shape=size,
            predict_input_shape=size,
            output_kind="classes",
            semantics={
                "class_names": list(SYNISTER_CLASSES),
                "channel_activations": ["softmax"] * len(SYNISTER_CLASSES),
                "neuron_vote": "argmax of the summed per-synapse probabilities",
                "input_centred_on": "synapse location",
            },
            citations=(SYNISTER_PAPER,),
            paper=paper,
        )
    )


_synister(
    "synister-fafb",
    "fafb",
    "Synister paper Vgg3D on FAFB: (16,160,160) crop around a synapse -> 6 transmitter classes.",
    kwargs={
        "input_size": [16, 160, 160],
        "fmaps": 12,
        "downsample_factors": [[1, 2, 2], [1, 2, 2], [1, 2, 2], [2, 2, 2]],
        "fmap_inc": [2, 2, 2, 2],
        "n_convolutions": [2, 2, 2, 2],
        "output_classes": 6,
        "input_fmaps": 1,
        "fc_size": 4096,
    },
    voxel=(40.0, 4.0, 4.0),
    paper=True,
)
# 8 nm isotropic FIB-SEM: 80^3 voxels = 640 nm a side, the FAFB crop's physical extent
# (16x160x160 at 40x4x4 nm); four [2,2,2] pools leave 5^3.
_synister(
    "synister-fibsem-iso",
    "fibsem-iso",
    "Synister Vgg3D for 8 nm isotropic FIB-SEM: 80^3 crop (640 nm, the FAFB crop's extent), "
    "isotropic [2,2,2] pooling.",
    kwargs={
        "input_size": [80, 80, 80],
        "fmaps": 12,
        "downsample_factors": [[2, 2, 2]] * 4,
        "fmap_inc": [2, 2, 2, 2],
        "n_convolutions": [2, 2, 2, 2],
        "output_classes": 6,
        "input_fmaps": 1,
        "fc_size": 4096,
    },
    voxel=(8.0, 8.0, 8.0),
    paper=False,
)
_synister(
    "synister-small",
    "small",
    "Small demo: Vgg3D (8 fmaps, 4 blocks, FC 64, no dropout) on a (16,64,64) crop "
    "(640x256x256 nm: the T-bar and its vesicle cloud).",
    kwargs={
        "input_size": [16, 64, 64],
        "fmaps": 8,
        "downsample_factors": [[1, 2, 2], [1, 2, 2], [2, 2, 2], [2, 2, 2]],
        "fmap_inc": [2, 2, 2, 2],
        "n_convolutions": [2, 2, 2, 2],
        "output_classes": 6,
        "input_fmaps": 1,
        "fc_size": 64,
        # 4 fmaps with the originals' dropout 0.5 stayed at chance for thousands of iterations
        "dropout": 0.0,
    },
    voxel=(40.0, 4.0, 4.0),
    paper=False,
)
