#!/bin/bash
# The work of one token (examples/grid): its input is a number n; prints the n-th Fibonacci number modulo
# 1,000,000,007, in plain bash, so that the example needs nothing on the worker node. Replace with yours:
# picas stores its exit code, stdout and stderr in the token.
set -euo pipefail
n=${1:?usage: work.sh <n>}
[[ $n =~ ^[0-9]+$ ]] || { echo "work.sh: not a number: $n" >&2; exit 2; }
a=0 b=1
for ((i = 0; i < n; i++)); do
  t=$(( (a + b) % 1000000007 )); a=$b; b=$t
done
echo "fib($n) mod 1000000007 = $a"
