/**
 * How many tokens a pilot claims in one write while other pilots claim beside it. Every claim write of b
 * tokens meets the other pilots' claims in flight: about (pilots - 1) x b / (free tokens) of its tokens are
 * lost to them, so large batches collide more and more as the free tokens run out (bench/RESULTS.md: 0.43
 * refused claim writes per token at 32 pilots and batch 50 on CouchDB). A pilot knows neither how many
 * pilots there are nor how many tokens are free, but it sees its own losses: a claim that lost more than
 * one token in twenty halves the next claim, a clean one lets it grow again by a quarter (additive
 * increase, multiplicative decrease, as TCP does with its window), never beyond what the caller asks for.
 * Halving at any loss wasted no fewer claims and claimed 10-15% fewer tokens per second at 32 pilots
 * (a 32-pilot claim loop against CouchDB 3.5). Shrinking harder costs more than the collisions it saves:
 * tolerating one loss in fifty, growing by a tenth and counting picks found taken at the read as losses
 * too brought the waste at 32 no-op pilots from 0.073-0.078 to 0.048-0.051 claim writes per token, and
 * the tokens per second down by a fifth at 8 and at 32 pilots (434-447 to 334-357 and 405-409 to 322-323;
 * 0.18 to 0.31 requests per token at 8), measured in turns on a quiet machine against CouchDB 3.5 with
 * 10,000 tokens at batch 50 (bench/RESULTS.md run 8).
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
