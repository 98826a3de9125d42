#!/bin/bash
# Put together the input sandbox of pilot.jdl in a folder (examples/grid/README.md):
#   PICAS_HOST_URL=https://couch.example.org:6984 PICAS_DATABASE=mydb PICAS_USERNAME=mydb-pilot \
#     examples/grid/make-sandbox.sh sandbox ~/mydb-pilot.password dist/picas
# Copies the single-executable picas (npm run bundle), the start and work scripts and the JDL, writes the
# settings to picas.env and the password (first line of the given file) to picas-password, mode 0600.
set -euo pipefail
usage="usage: PICAS_HOST_URL=... PICAS_DATABASE=... PICAS_USERNAME=... $0 <sandbox folder> <password file> [picas executable]"
dest=${1:?$usage}
password_file=${2:?$usage}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
picas=${3:-$here/../../dist/picas}
: "${PICAS_HOST_URL:?$usage}" "${PICAS_DATABASE:?$usage}" "${PICAS_USERNAME:?$usage}"
[ -x "$picas" ] || { echo "$0: no single executable at $picas: run npm run bundle first" >&2; exit 2; }
[ -r "$password_file" ] || { echo "$0: cannot read the password file $password_file" >&2; exit 2; }
case "$PICAS_HOST_URL" in *@*) echo "$0: PICAS_HOST_URL holds credentials: give the user in PICAS_USERNAME and the password as a file" >&2; exit 2;; esac

mkdir -p "$dest"
cp "$picas" "$dest/picas"
cp "$here/start-pilot.sh" "$here/work.sh" "$here/pilot.jdl" "$dest/"
{
  # %q: sourced by bash on the node, so quote whatever a URL or name holds.
  printf 'PICAS_HOST_URL=%q\n' "$PICAS_HOST_URL"
  printf 'PICAS_DATABASE=%q\n' "$PICAS_DATABASE"
  printf 'PICAS_USERNAME=%q\n' "$PICAS_USERNAME"
  printf 'PILOT_SLOTS=%q\n' "${PILOT_SLOTS:-1}"
  printf 'PILOT_MAX_TOTAL_TIME=%q\n' "${PILOT_MAX_TOTAL_TIME:-72000}"
  printf 'PILOT_MAX_TOKEN_TIME=%q\n' "${PILOT_MAX_TOKEN_TIME:-7200}"
} > "$dest/picas.env"
(umask 077; head -n 1 "$password_file" > "$dest/picas-password")
chmod 0600 "$dest/picas-password"
echo "sandbox ready in $dest: cd $dest && dirac-wms-job-submit pilot.jdl"
