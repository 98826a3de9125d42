#!/bin/bash
# A picas pilot on a Grid worker node (examples/grid/README.md). DIRAC runs it with bash in a fresh folder
# holding the input sandbox: picas (the single executable: no Node needed), picas.env (settings),
# picas-password (the password of a user of this one database) and work.sh (what each token runs).
# Nothing else is assumed on the node: no node, no picas installed, no usable home folder.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

# A sandbox may arrive without its file modes: make the program runnable and the password private again.
chmod 0755 picas work.sh
chmod 0600 picas-password

# Settings, not secrets: PICAS_HOST_URL, PICAS_DATABASE, PICAS_USERNAME, and the pilot's limits.
set -a
. ./picas.env
set +a
# picas's config folder inside the job's folder: a worker node's home may be shared, absent or read-only.
export PICAS_CONFIG_DIR="$here/.picas"

echo "picas pilot on $(uname -n), DIRAC job ${DIRACJOBID:-(none)}, started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
# Fail fast, with one clear line in pilot.err, when the server, the user or the database is wrong.
./picas ping --password-file picas-password

# The pilot ends by itself when no token is left; after PILOT_MAX_TOTAL_TIME seconds it starts no new
# token; DIRAC's own time limit sends SIGTERM, which picas (exec'd: it gets the signal itself) answers by
# stopping running commands and putting their tokens back to todo. Each token's input is the one argument
# of work.sh; its job id (DIRACJOBID) is recorded in the token as dirac_job_id.
exec ./picas run --password-file picas-password \
  --slots "${PILOT_SLOTS:-1}" \
  --max-total-time "${PILOT_MAX_TOTAL_TIME:-72000}" \
  --max-token-time "${PILOT_MAX_TOKEN_TIME:-7200}" \
  --work-dir "$here/work" \
  -- "$here/work.sh" '{input}'
