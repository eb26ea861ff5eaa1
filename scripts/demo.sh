#!/usr/bin/env bash
# The main job: set-up, then recflow on the local services with data loaded
# (MovieLens 100K from ../shared/datasets/ml-100k when present, otherwise a
# generated catalogue). Prints the Sandbox URL and a sample query.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
exec node dist/cli/main.js demo "$@"
