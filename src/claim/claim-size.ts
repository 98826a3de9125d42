/**
 * How many tokens a pilot claims in one write while other pilots claim beside it. Every claim write of b
 * tokens meets the other pilots' claims in flight: about (pilots - 1) x b / (free tokens) of its tokens are
 * lost to them, so large batches collide more and more as the free tokens run out (bench/RESULTS.md: 0.43
 * refused claim writes per token at 32 pilots and batch 50 on CouchDB). A pilot knows neither how many
 * pilots there are nor how many tokens are free, but it sees its own losses: a claim that lost more than
 * one token in twenty halves the next claim, a clean one lets it grow again by a quarter (additive
 * increase, multiplicative decrease, as TCP does with its window), never beyond what the caller asks for.
 * Halving at any loss wasted no fewer claims and claimed 10-15% fewer tokens per second at 32 pilots
 * (a 32-pilot claim loop against CouchDB 3.5).
 */
const TOLERATED_LOSS = 0.05;

export class ClaimSizer {
  private limit = Number.POSITIVE_INFINITY;

  /** The claim size to use now for a caller that wants `wanted`. */
  size(wanted: number): number {
    return Math.max(1, Math.min(wanted, Math.floor(this.limit)));
  }

  /** A claim write of `tried` tokens lost `lost` of them to other pilots. */
  after(tried: number, lost: number): void {
    if (tried <= 0) return;
    if (lost / tried > TOLERATED_LOSS) this.limit = Math.max(1, Math.floor(tried / 2));
    else if (lost === 0 && Number.isFinite(this.limit)) this.limit = this.limit >= 10_000 ? Number.POSITIVE_INFINITY : this.limit * 1.25 + 1;
  }
}
