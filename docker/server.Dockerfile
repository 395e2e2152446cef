# emzoo server + block worker image: `bioimage-export serve` by default; the same image runs
# `bioimage-export worker` (Redis queue) and `bioimage-export predict`.
#
#   docker build -f docker/server.Dockerfile -t emzoo/server:0.1.0 .              # CPU
#   docker build -f docker/server.Dockerfile --build-arg ORT_INSTALL=v12 \
#     -t emzoo/server:0.1.0-cuda .        # + onnxruntime CUDA 12 provider (GPU hosts: worker --device cuda)
#
# Build context = the repository root. Only the folders the CLI imports are copied.
ARG NODE_IMAGE=node:20-slim
FROM ${NODE_IMAGE}

# skip (default, CPU only; the CPU provider ships in the npm package) | v12 (downloads the CUDA 12
# provider libraries at install; the host then needs the NVIDIA driver + CUDA 12 / cuDNN 9 runtime)
ARG ORT_INSTALL=skip

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    OMP_NUM_THREADS=1
WORKDIR /app

# Dependencies first (cached while only sources change). tsx (a dev dependency) runs the
# TypeScript sources, so the full lockfile is installed (--include=dev: NODE_ENV=production would
# otherwise make npm ci drop it, found by building this image).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --include=dev --no-audit --no-fund --loglevel=error --onnxruntime-node-install=${ORT_INSTALL} \
 && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY exporters ./exporters
COPY runtime ./runtime
COPY server ./server
COPY spec ./spec

# Bundles are mounted at /models, data (zarr in/out, job records) at /data.
RUN mkdir -p /models /data && chown node:node /data
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:8000/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

ENTRYPOINT ["node", "/app/bin/bioimage-export.js"]
# A public bind needs a token: set EMZOO_SERVE_TOKEN (or pass --token).
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--models-dir", "/models", "--data-root", "/data", "--jobs-dir", "/data/.emzoo/jobs"]
