#!/usr/bin/env bash
# Push the fractals example's 24 tokens: every combination of q, d (image size) and m (iterations).
# FRACTALS_D and FRACTALS_M override the sizes and iteration counts (the test uses small ones);
# FRACTALS_OUT is where the images go (default: ./images next to this script).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${FRACTALS_OUT:-$here/images}"
mkdir -p "$out"
exec picas push --deterministic-ids \
  --sweep "q=0.100,0.184" "d=${FRACTALS_D:-256,2280,4304,6328}" "m=${FRACTALS_M:-400,4400,8400}" \
  --input "'$here/fractals' -q {q} -d {d} -m {m} -o '$out/fractal_q{q}_d{d}_m{m}.ppm'" \
  "$@"
