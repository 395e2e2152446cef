#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: Node packages (npm ci) and a
# project-made Python virtualenv (.venv) with the emzoo package and its extras.
# Idempotent: re-running only installs what changed. EMZOO_EXTRAS picks the Python extras.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# redis-server (Debian) for the distributed block queue's tests (test/queue); CI runs as root on Debian.
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "apt-get install redis-server"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    log "redis-server missing and apt-get (as root) unavailable: install Redis >= 6 yourself; test/queue skips until then"
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

extras=${EMZOO_EXTRAS:-dev,train,tf,bioimageio,serve-test}
stamp=.venv/.emzoo-installed
want="$(cat models/pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # torch first and pinned: the CPU build comes from local disk; an unpinned torch pulls CUDA.
  log "pip install torch==2.13.0"
  .venv/bin/pip install --quiet torch==2.13.0
  log "pip install -e models[$extras]"
  .venv/bin/pip install --quiet -e "models[$extras]"
  echo "$want" > "$stamp"
fi
log "ready: node $(node --version), $(.venv/bin/python --version), torch $(.venv/bin/python -c 'import torch; print(torch.__version__)')"
