/**
 * How many tokens a pilot claims in one write while other pilots claim beside it. Every claim write of b
 * tokens meets the other pilots' claims in flight: about (claims in flight) x b / (free tokens) of its
 * tokens are lost to them, so large batches collide more and more as the free tokens run out
 * (bench/RESULTS.md: 0.43 refused claim writes per token at 32 pilots and batch 50 on CouchDB). A pilot
 * knows neither how many pilots there are nor how many tokens are free, but it sees its own losses: the
 * tokens its claim write lost, and before that the picks it found taken when it read them (the same
 * crowding, seen a moment earlier and at no cost). A claim that lost more than one token in fifty halves
 * the next, a clean one lets it grow again by a tenth (additive increase, multiplicative decrease, as TCP
 * does with its window), never beyond what the caller asks for.
 *
 * Measured with 32 and 8 no-op pilots at batch 50 on 10,000 tokens, CouchDB 3.5 (bench/RESULTS.md run 8):
 * tolerating one in twenty and growing by a quarter, counting write losses only, wasted 0.064-0.092
 * claim writes per token at 32 pilots; one in fifty and a tenth, with stale picks counted, 0.043-0.047
 * (0.013 at 8 pilots), for about 0.1 more requests per token and within the runs' noise in tokens/s.
 * Halving at any loss claimed 10-15% fewer tokens per second at 32 pilots.
 */
const TOLERATED_LOSS = 0.02;
const GROWTH = 1.1;

export class ClaimSizer {
  private limit = Number.POSITIVE_INFINITY;

  /** The claim size to use now for a caller that wants `wanted`. */
  size(wanted: number): number {
    return Math.max(1, Math.min(wanted, Math.floor(this.limit)));
  }

  /** A claim of `tried` tokens lost `lost` of them to other pilots (taken before the read, or refused at the write). */
  after(tried: number, lost: number): void {
    if (tried <= 0) return;
    if (lost / tried > TOLERATED_LOSS) this.limit = Math.max(1, Math.floor(tried / 2));
    else if (lost === 0 && Number.isFinite(this.limit)) this.limit = this.limit >= 10_000 ? Number.POSITIVE_INFINITY : this.limit * GROWTH + 1;
  }
}
