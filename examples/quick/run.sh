#!/usr/bin/env bash
# The quick start: on the embedded default, start the server (unless one runs already), create the views,
# push the three echo tokens, run one pilot over them, and print the final state of each token with its
# output. Each step is the `picas` command a user would type.
set -euo pipefail
cd "$(dirname "$0")/../.."
picas() { node dist/cli/main.js "$@"; }

server=""
if ! picas ping -q >/dev/null 2>&1; then
  node dist/cli/main.js serve &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do
    picas ping -q >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { echo "picas serve did not start (see above)" >&2; exit 1; }
    sleep 0.5
  done
fi

picas views
picas push --deterministic-ids examples/quick/quickExample.txt
picas run
picas status --tokens --logs
