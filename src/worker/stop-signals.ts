/**
 * SIGTERM and SIGINT for a pilot process (`picas run`). The first asks the pilot to stop (running commands
 * get the grace, then their tokens go back; finished results are written) and starts a hard limit: the
 * process has exited at most grace + 5 s after the signal, in every state (also while it retries an
 * unreachable server, where a request may hang until its timeout): whatever is not done by then is left to
 * the leases, and the pilot's watchdog, which sees the pilot gone, stops its commands and puts its tokens
 * back. A second signal skips the grace: the commands are killed at once, and the process exits after
 * about two seconds of putting back what it can. A repeat within `repeatMs` of the first is the same request,
 * not a second one: Slurm's scancel and time limit send SIGTERM to every process of a job, and a batch script
 * that forwards its own makes the pilot get two at once; the commands must keep their grace then.
 */
export interface StopSignals {
  /** Aborted by the first signal. */
  stop: AbortController;
  /** Aborted by the second. */
  hurry: AbortController;
  dispose(): void;
}

export function watchStopSignals(options: {
  graceMs: number;
  say: (line: string) => void;
  firstLine: (signal: NodeJS.Signals) => string;
  /** Beyond the grace, before the hard exit (default 4.5 s: exited within grace + 5 s). */
  slackMs?: number;
  /** Hard exit after a second signal (default 2 s). */
  hurryMs?: number;
  /** A repeat sooner than this after the first signal is the same request (default 1 s). */
  repeatMs?: number;
}): StopSignals {
  const stop = new AbortController();
  const hurry = new AbortController();
  let count = 0;
  let firstAt = 0;
  let hard: NodeJS.Timeout | undefined;
  const exitWithin = (ms: number, line: string) => {
    if (hard) clearTimeout(hard);
    hard = setTimeout(() => {
      options.say(line);
      process.exit(0);
    }, ms);
    // Only a limit: a pilot done sooner exits by itself.
    hard.unref();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (count === 1 && Date.now() - firstAt < (options.repeatMs ?? 1_000)) return;
    count++;
    if (count === 1) {
      firstAt = Date.now();
      options.say(options.firstLine(signal));
      stop.abort(new Error(signal));
      exitWithin(options.graceMs + (options.slackMs ?? 4_500), `${signal}: still stopping after --grace + 5 s: exiting now; what is not written or put back is left to its lease`);
    } else if (count === 2) {
      options.say(`second ${signal}: killing running commands now, putting back what can be put back`);
      hurry.abort(new Error(signal));
      exitWithin(options.hurryMs ?? 2_000, `second ${signal}: exiting now; what is not put back is left to its lease`);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    stop,
    hurry,
    dispose() {
      // After a signal the listeners stay until the process exits: a further signal must not kill it
      // with a signal's exit status in the middle of closing.
      if (count > 0) return;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
