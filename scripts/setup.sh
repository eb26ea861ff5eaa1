#!/usr/bin/env bash
# Prepares a fresh checkout: starts the local services that are down,
# installs the exact dependencies from package-lock.json, and builds.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
