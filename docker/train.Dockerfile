# emzoo training image: Python 3.11 + torch==2.13.0 + the emzoo package (train extra).
# `emzoo train` on one device, or DDP with `torchrun ... -m emzoo train` (docker/k8s/train-ddp.yaml).
#
#   docker build -f docker/train.Dockerfile -t emzoo/train:0.1.0 .                         # CPU wheel
#   docker build -f docker/train.Dockerfile --build-arg TORCH_VARIANT=cu128 \
#     -t emzoo/train:0.1.0-cu128 .                                                          # CUDA wheel
#
# CUDA: the torch CUDA wheels bundle the CUDA runtime, cuDNN and NCCL, so the slim Python base is
# enough; the host needs only the NVIDIA driver (>= the wheel's CUDA line) and the NVIDIA container
# toolkit (`docker run --gpus all`, Kubernetes device plugin, `apptainer run --nv`). Pick the
# variant your driver supports from https://download.pytorch.org/whl/ (cu126, cu128, ...).
# Build context = the repository root.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG TORCH_VARIANT=cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# torch first, pinned, from the variant's index: an unpinned torch from PyPI would pull another
# version (and, on Linux, the CUDA build) during the emzoo install below.
RUN pip install "torch==${TORCH_VERSION}" --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}"

COPY models/pyproject.toml ./models/pyproject.toml
COPY models/src ./models/src
RUN pip install "./models[train]" "torch==${TORCH_VERSION}" \
 && python -c "import torch, emzoo; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

RUN useradd --create-home --uid 1000 emzoo && mkdir -p /data && chown emzoo:emzoo /data
USER emzoo
WORKDIR /data
ENTRYPOINT ["emzoo"]
CMD ["--help"]
