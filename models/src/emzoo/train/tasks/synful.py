"""Synful training pipeline (originals sections 3.3-3.4).

Profile ``originals``: the synaptic partners are a gunpowder graph that ElasticAugment and
SimpleAugment (mirror + transpose in y,x) move with raw and the neuron labels; the targets are
rasterised from the moved points afterwards, as the originals did. Other profiles: targets are
rasterised from the synapse table *before* augmentation (post-synaptic mask, partner
vectors and their mask), then TorchAugment moves them with raw: the mask by nearest neighbour and
the vectors also rotated, so pre = post + vector still holds after rotation and flips (gunpowder's
SimpleAugment is left out: it would transpose the vector field without rotating its values).
Then BalanceLabels on the mask (whole batch, clip 7e-4..0.9993) and raw *2-1.
Loss: sigmoid CE(mask logit; balance weights) + MSE(vectors; vectors_mask), SUM_BY_NONZERO_WEIGHTS.
Boxes contain a post-synaptic site with probability 0.95 (p_nonempty).
"""

from __future__ import annotations

import gunpowder as gp
import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.losses import WeightedMSELoss, WeightedSigmoidCrossEntropy
from emzoo.preset import Preset
from emzoo.targets import balance_labels, partner_vectors, post_synaptic_mask
from emzoo.train.batches import GunpowderBatches
from emzoo.train.config import ADAM_FUNKE_TF
from emzoo.train.distributed import DistEnv
from emzoo.train.gp_nodes import ArrayFn
from emzoo.train.task import LossTerm, Task
from emzoo.train.tasks import common as c

MASK_RADIUS_NM = 10.0  # RasterizePoints ball radius (originals 3.3)
VECTOR_RADIUS_NM = 100.0  # d_blob_radius


class SynapseGraph(gp.BatchProvider):
    """Synaptic partners as a gunpowder graph (post node 2i+1, pre node 2i+2, attribute
    ``pair`` = i), so ElasticAugment / SimpleAugment move the points as they move the arrays."""

    def __init__(self, key: gp.GraphKey, post: np.ndarray, pre: np.ndarray) -> None:
        self.key = key
        self.points = [
            (2 * i + 1 + k, loc, i, k == 0)
            for i in range(len(post))
            for k, loc in enumerate((post[i], pre[i]))
        ]

    def setup(self) -> None:
        self.provides(self.key, gp.GraphSpec(roi=gp.Roi((None,) * 3, (None,) * 3)))

    def provide(self, request: gp.BatchRequest) -> gp.Batch:
        roi = request[self.key].roi
        nodes = [
            gp.Node(nid, np.asarray(loc, np.float64), attrs={"pair": i, "post": is_post})
            for nid, loc, i, is_post in self.points
            if roi.contains(gp.Coordinate(np.floor(loc).astype(int)))
        ]
        batch = gp.Batch()
        batch[self.key] = gp.Graph(nodes, [], gp.GraphSpec(roi=roi))
        return batch


class RasterizeSynapses(gp.BatchFilter):
    """Post-synaptic mask, partner vectors and their mask from the (augmented) graph: the
    originals rasterised after augmentation. Posts whose partner left the graph ROI still get
    their mask ball but no vectors."""

    def __init__(self, graph, labels, outputs, fn, context, graph_context) -> None:
        self.graph, self.labels, self.outputs, self.fn = graph, labels, outputs, fn
        self.context, self.graph_context = gp.Coordinate(context), gp.Coordinate(graph_context)

    def setup(self) -> None:
        ref = self.spec[self.labels]
        for key, dtype in self.outputs.values():
            spec = ref.copy()
            spec.dtype = np.dtype(dtype)
            spec.interpolatable = np.issubdtype(spec.dtype, np.floating)
            self.provides(key, spec)
        self.enable_autoskip()

    def prepare(self, request):
        rois = [request[k].roi for k, _ in self.outputs.values() if k in request]
        roi = rois[0]
        for r in rois[1:]:
            roi = roi.union(r)
        vs = self.spec[self.labels].voxel_size
        self._roi = roi.grow(self.context, self.context).snap_to_grid(vs, mode="grow")
        deps = gp.BatchRequest()
        deps[self.labels] = gp.ArraySpec(roi=self._roi)
        deps[self.graph] = gp.GraphSpec(roi=self._roi.grow(self.graph_context, self.graph_context))
        return deps

    def process(self, batch, request):
        pairs: dict[int, dict[bool, np.ndarray]] = {}
        for node in batch[self.graph].nodes:
            pairs.setdefault(node.attrs["pair"], {})[node.attrs["post"]] = node.location
        labels = batch[self.labels].crop(self._roi)
        results = self.fn(
            post_only=[p[True] for p in pairs.values() if True in p and False not in p],
            post=[p[True] for p in pairs.values() if True in p and False in p],
            pre=[p[False] for p in pairs.values() if True in p and False in p],
            labels=labels.data,
            offset=tuple(self._roi.offset),
            voxel_size=tuple(self.spec[self.labels].voxel_size),
        )
        out = gp.Batch()
        for name, (key, dtype) in self.outputs.items():
            if key in request:
                spec = self.spec[key].copy()
                spec.roi = self._roi
                arr = gp.Array(np.asarray(results[name], dtype=dtype), spec)
                out[key] = arr.crop(request[key].roi)
        return out


def build(
    preset: Preset,
    volume: EMVolume,
    env: DistEnv,
    seed: int,
    batch_size: int,
    device,
    augment: str = "kornia-light",
    stage1: str | None = None,
) -> Task:
    """``device``: where TorchAugment warps (the GPU, or the CPU inside data workers);
    ``augment``: profile (emzoo.augment.profiles); ``stage1``: autocontext only (LSD)."""
    c.no_stage1(preset, stage1)
    if volume.neurons is None or len(volume.synapses) == 0:
        raise InvalidInput(
            "the training data has no neuron labels or no synapses",
            hint="write it with `emzoo synth`",
        )
    vs, off = c.grid_of(volume, preset)
    in_shape, out_shape = preset.train_input_shape, c.output_shape(preset)
    sem = preset.semantics
    mask_r = float(sem.get("mask_radius_nm", MASK_RADIUS_NM))
    vec_r = float(sem.get("vector_radius_nm", VECTOR_RADIUS_NM))
    post, pre = volume.synapses.post_locations, volume.synapses.pre_locations
    RAW, LABELS = gp.ArrayKey("RAW"), gp.ArrayKey("GT_LABELS")
    POST, VEC, VEC_MASK, POST_W = (
        gp.ArrayKey(n) for n in ("GT_POST_MASK", "GT_VECTORS", "VECTORS_MASK", "POST_WEIGHTS")
    )

    def rasterise(labels, offset, voxel_size):
        # voxel corner offsets (ours and gunpowder's) are what the target functions expect
        mask = post_synaptic_mask(post, labels, voxel_size, offset, radius=mask_r)
        vectors, vmask = partner_vectors(post, pre, labels, voxel_size, offset, radius=vec_r)
        return {"mask": mask, "vectors": vectors, "vectors_mask": vmask}

    def balance(mask, offset, voxel_size):
        return {"w": balance_labels(mask.astype(np.uint8), clipmin=7e-4, clipmax=0.9993)}

    targets = {
        "mask": (POST, np.uint8),
        "vectors": (VEC, np.float32),
        "vectors_mask": (VEC_MASK, np.uint8),
    }
    target_ctx = tuple(int(np.ceil(vec_r / v)) * v for v in vs)
    sources = [
        c.source(RAW, volume.raw, off, vs) + gp.Normalize(RAW),
        c.source(LABELS, volume.neurons.astype(np.uint64), off, vs),
    ]
    if augment == "originals":
        # as the originals: points move with the arrays, targets are rasterised afterwards
        SYN = gp.GraphKey("SYNAPSES")
        pipeline = c.merged(*sources, SynapseGraph(SYN, post, pre))
        pipeline = c.chain(pipeline, c.augmentation(augment, "synful", preset, vs, RAW))

        def rasterise_graph(post_only, post, pre, labels, offset, voxel_size):
            every = np.asarray([*post_only, *post], np.float64).reshape(-1, 3)
            mask = post_synaptic_mask(every, labels, voxel_size, offset, radius=mask_r)
            post, pre = (np.asarray(a, np.float64).reshape(-1, 3) for a in (post, pre))
            vectors, vmask = partner_vectors(post, pre, labels, voxel_size, offset, radius=vec_r)
            return {"mask": mask, "vectors": vectors, "vectors_mask": vmask}

        # pre sites up to the longest partner distance outside the labels' box still count
        reach = float(np.max(np.linalg.norm(pre - post, axis=1))) if len(post) else 0.0
        graph_ctx = tuple(int(np.ceil(reach / v) + 1) * v for v in vs)
        pipeline += RasterizeSynapses(SYN, LABELS, targets, rasterise_graph, target_ctx, graph_ctx)
    else:
        pipeline = c.merged(*sources)
        pipeline += ArrayFn(rasterise, {"labels": LABELS}, targets, context=target_ctx)
        if augment == "kornia-light":  # the pipeline as before profiles, unchanged
            pipeline += c.torch_augment(
                RAW, vs, in_shape, labels=[POST], masks=[VEC_MASK], vectors=[VEC], device=device
            )
            pipeline += c.intensity_augment(RAW, vs)
        else:
            # kornia: TorchAugment rotates the vectors; no SimpleAugment (it would not)
            nodes = c.augmentation(
                augment,
                "synful",
                preset,
                vs,
                RAW,
                labels=[POST],
                masks=[VEC_MASK],
                vectors=[VEC],
                device=device,
                simple=False,
            )
            pipeline = c.chain(pipeline, nodes)
    pipeline += ArrayFn(balance, {"mask": POST}, {"w": (POST_W, np.float32)})
    pipeline += gp.IntensityScaleShift(RAW, 2, -1)

    request = gp.BatchRequest()
    request[RAW] = c.spec(in_shape, vs)
    for k in (POST, VEC, VEC_MASK, POST_W):
        request[k] = c.spec(out_shape, vs)
    names = {
        "raw": RAW,
        "gt_mask": POST,
        "gt_vectors": VEC,
        "vectors_mask": VEC_MASK,
        "mask_weights": POST_W,
    }
    fallback = c.uniform_sampler(volume, vs, off, out_shape)
    sampler = c.near_points_sampler(post, volume, vs, off, out_shape, 0.95, fallback)
    batches = GunpowderBatches(pipeline, request, names, sampler, seed, env.rank, batch_size)
    return Task(
        name=preset.name,
        model=preset.build(),
        batches=batches,
        terms=[
            LossTerm(
                "syn_indicator",
                "gt_mask",
                WeightedSigmoidCrossEntropy(),
                weights="mask_weights",
                name="loss_mask",
            ),
            LossTerm(
                "partner_vector",
                "gt_vectors",
                WeightedMSELoss(),
                weights="vectors_mask",
                scale=float(sem.get("d_loss_scale", 1.0)),
                name="loss_vectors",
            ),
        ],
        optimizer=ADAM_FUNKE_TF,
        record={
            "input_shape": list(in_shape),
            "output_shape": list(out_shape),
            "augment": augment,
            "mask_radius_nm": mask_r,
            "vector_radius_nm": vec_r,
            "d_loss_scale": float(sem.get("d_loss_scale", 1.0)),
        },
        close=batches.close,
    )
