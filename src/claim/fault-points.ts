import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Fixed points where the fault-injection tests kill a pilot: set PICAS_FAULT_POINT to one of them (and
 * optionally PICAS_FAULT_AT=n for the n-th time it is reached) and the pilot SIGKILLs itself there, as a
 * lost node would die. Unset (always, outside those tests) this costs one comparison.
 */
export type FaultPoint = 'after-claim' | 'before-save' | 'during-batch-write' | 'result-handed';

const wanted = process.env.PICAS_FAULT_POINT;
const at = Number(process.env.PICAS_FAULT_AT ?? 1);
let hits = 0;
// For 'result-handed': once reached, the first HTTP request that starts (within the same turn of the event
// loop: Node announces a request when it gets its socket, before any I/O) is the result's write.
let armed = false;
if (wanted === 'result-handed') {
  subscribe('http.client.request.start', (message) => {
    if (!armed) return;
    armed = false;
    const req = (message as { request: ClientRequest }).request;
    if (req.writableFinished) die();
    else req.once('finish', die).once('close', die);
  });
}

const die = () => process.kill(process.pid, 'SIGKILL');

export function faultPoint(point: FaultPoint): void {
  if (wanted !== point) return;
  hits++;
  if (hits !== at) return;
  if (point === 'during-batch-write') {
    // Die while the request is on its way, not before it is sent.
    setImmediate(die);
    return;
  }
  if (point === 'result-handed') {
    // Reached right after a finished result was handed to the writer. Die as soon as that write's request
    // has been handed to the operating system. When the writer was idle, group commit started the write at
    // once; when it was busy (or held results back), no request starts now and this kill loses the result.
    armed = true;
    setImmediate(() => { if (armed) die(); });
    return;
  }
  die();
}
