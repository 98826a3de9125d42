/**
 * Heavy integration tests (a real Slurm, headless Chromium, Snakemake, containers) run once per CI run:
 * `.ci/run` sets PICAS_SKIP_HEAVY=1 for its second pass (the same suite against a separately started
 * server), where they would only repeat what the first pass proved. Use as a test's `skip` option, so
 * the runner prints the reason.
 */
export function heavySkipReason(what: string): string | false {
  return process.env.PICAS_SKIP_HEAVY === '1'
    ? `${what}: heavy integration test, run once per CI run (PICAS_SKIP_HEAVY=1 in this pass)`
    : false;
}
