#!/usr/bin/env bash
# Push one token per text file: the token's `file` field is the file's absolute path, its input counts
# the words in it. Run with: picas run   (or without a shell: picas run -- wc -w {file})
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
list="$(mktemp)"
trap 'rm -f "$list"' EXIT
for f in "$here"/texts/*.txt; do
  # JSON lines: one object per file (paths are escaped for JSON by printf's %s only when plain; ours are).
  printf '{"file": "%s", "input": "wc -w < '"'"'%s'"'"'"}\n' "$f" "$f" >> "$list"
done
exec picas push --format jsonl --deterministic-ids "$list" "$@"
