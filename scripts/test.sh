#!/usr/bin/env bash
# The test command: set-up, static checks, then every test suite (unit,
# integration on the real services, end to end over HTTP and WebSocket).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
npm run typecheck --silent
npm run format:check --silent

# The typed client must be what the committed schema and operations produce.
npm run codegen --silent
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
  git diff --exit-code -- src/client/generated || {
    echo "src/client/generated is out of date: run npm run codegen and commit it" >&2
    exit 1
  }
fi

npm test -- "$@"
