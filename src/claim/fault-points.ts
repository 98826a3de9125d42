/**
 * Fixed points where the fault-injection tests kill a pilot: set PICAS_FAULT_POINT to one of them (and
 * optionally PICAS_FAULT_AT=n for the n-th time it is reached) and the pilot SIGKILLs itself there, as a
 * lost node would die. Unset (always, outside those tests) this costs one comparison.
 */
export type FaultPoint = 'after-claim' | 'before-save' | 'during-batch-write';

const wanted = process.env.PICAS_FAULT_POINT;
const at = Number(process.env.PICAS_FAULT_AT ?? 1);
let hits = 0;

export function faultPoint(point: FaultPoint): void {
  if (wanted !== point) return;
  hits++;
  if (hits !== at) return;
  if (point === 'during-batch-write') {
    // Die while the request is on its way, not before it is sent.
    setImmediate(() => process.kill(process.pid, 'SIGKILL'));
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
