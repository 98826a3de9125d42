#!/usr/bin/env bash
# A Slurm job array whose every task is one picas pilot: submit with
#
#   sbatch --array=0-5 examples/slurm/picas-array.sh                      (six pilots, one core each)
#   sbatch --array=0-99%20 --cpus-per-task=4 examples/slurm/picas-array.sh   (four tokens at a time each)
#
# Arguments after the script go to `picas run` (e.g. --design-doc MultiCore --slots 1). Unless they hold
# --slots, each pilot runs as many tokens at once as its allocation has CPUs (SLURM_CPUS_PER_TASK, from
# --cpus-per-task); `picas run` alone runs one at a time.
#
# `picas` must be on PATH on the compute nodes (npm install -g, or a module; see README.md beside this
# file). The connection comes from ~/.config/picas/conf.yml (picas init) or PICAS_* variables, which
# sbatch passes on from the submitting shell.
#
# Each pilot claims tokens until none is left. The token records the array task as
# slurm_job_id = <array job id>_<task id>. When Slurm ends the job (time limit, scancel) it sends
# SIGTERM; the trap forwards a SIGTERM sent to this batch shell alone (--signal=B:...) to picas, which
# stops the running command and puts its token back to todo before the job is killed. --signal asks
# Slurm for that SIGTERM 120 s before the time limit (it may come up to a minute earlier).
#
#SBATCH --job-name=picas-pilot
#SBATCH --time=01:00:00
#SBATCH --cpus-per-task=1
#SBATCH --signal=B:TERM@120
#SBATCH --output=picas-pilot-%A_%a.log

set -u

# Each array task gets its own working folder so pilots on one node never share files.
# (The script also runs as a plain job, as `picas autopilot` submits it, or outside Slurm.)
if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID:-0}"; else job="${SLURM_JOB_ID:-local}"; fi
work="${PICAS_WORK_DIR:-${TMPDIR:-/tmp}/picas-$job}"
echo "pilot $job on $(hostname), work dir $work"

args=(run --work-dir "$work")
slots_given=no
for a in "$@"; do
  case "$a" in --slots|--slots=*) slots_given=yes ;; esac
done
if [ "$slots_given" = no ] && [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
  args+=(--slots "$SLURM_CPUS_PER_TASK")
fi
args+=("$@")
echo "running: picas ${args[*]}"

picas "${args[@]}" &
pilot=$!

# bash runs a trap only between commands: waiting in the background (`wait`) lets it run at once.
forward() {
  echo "received $1: asking the pilot to put its tokens back and stop"
  kill -s "$1" "$pilot" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT

# `wait` returns early (status > 128) when a trapped signal arrives: wait again until the pilot is gone,
# then once more for its own exit status (bash keeps it), not the status of the interrupted wait.
wait "$pilot"
while kill -0 "$pilot" 2>/dev/null; do wait "$pilot"; done
wait "$pilot"
status=$?
echo "pilot finished with status $status"
exit "$status"
