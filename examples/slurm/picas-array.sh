#!/usr/bin/env bash
# A Slurm job array whose every task is one picas pilot: submit with
#
#   sbatch --array=0-5 examples/slurm/picas-array.sh            (six pilots)
#   sbatch --array=0-99%20 examples/slurm/picas-array.sh --slots 4   (extra arguments go to picas run)
#
# Each pilot claims tokens until none is left. The token records the array task as
# slurm_job_id = <array job id>_<task id>. When Slurm ends the job (time limit, scancel) it sends
# SIGTERM to this batch shell; the trap forwards it to picas, which stops the running command and puts
# its token back to todo before the job is killed. --signal asks Slurm for that SIGTERM 120 s early.
#
#SBATCH --job-name=picas-pilot
#SBATCH --time=01:00:00
#SBATCH --cpus-per-task=1
#SBATCH --signal=B:TERM@120
#SBATCH --output=picas-pilot-%A_%a.log

set -u

# Connection settings come from ~/.config/picas/conf.yml (picas init) or PICAS_* variables.
# Each array task gets its own working folder so pilots on one node never share files.
work="${PICAS_WORK_DIR:-${TMPDIR:-/tmp}/picas-${SLURM_ARRAY_JOB_ID:-local}_${SLURM_ARRAY_TASK_ID:-0}}"
echo "pilot ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?} on $(hostname), work dir $work"

picas run --work-dir "$work" "$@" &
pilot=$!

# bash runs a trap only between commands: waiting in the background (`wait`) lets it run at once.
forward() {
  echo "received $1: asking the pilot to put its tokens back and stop"
  kill -s "$1" "$pilot" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT

status=0
# `wait` returns early (status > 128) when a trapped signal arrives; wait again until the pilot is gone.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  wait "$pilot"
  status=$?
  kill -0 "$pilot" 2>/dev/null || break
done
echo "pilot finished with status $status"
exit "$status"
