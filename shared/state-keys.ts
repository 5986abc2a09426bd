/**
 * The Redis keys of the hub's working state, in one place so a service that reads another's state
 * uses the very key the owner writes. Every key is a hash; money fields hold text like "1234.50".
 * The part in {braces} is the Redis Cluster hash tag: a member's keys live in one slot.
 * All of it can be rebuilt by replaying the input topics (design.md §2); none holds a national ID.
 */
export const stateKeys = {
  /** Owner: premium-ingest. A member's premium payments and eligibility for one cover year. */
  memberPremiumYear: (pseudonym: string, region: string, year: number) =>
    `hub:{${pseudonym}}:premium:${region}:${year}`,
  /** Owner: settlement-ingest. Year-to-date basic-fund and supplement payments from direct settlements. */
  memberYearToDate: (pseudonym: string, region: string, year: number) =>
    `hub:{${pseudonym}}:ytd:${region}:${year}`,
  /**
   * Owner: payout-ingest. The same figures from manual reimbursements. One writer per key: both
   * services read both keys and add them, so neither can overwrite the other's update.
   */
  memberManualYearToDate: (pseudonym: string, region: string, year: number) =>
    `hub:{${pseudonym}}:ytd-manual:${region}:${year}`,
  /** Owner: premium-ingest. One premium collection, so a correction can find what it corrects. */
  premiumEvent: (eventId: string) => `hub:premium:{${eventId}}`,
  /** Owner: settlement-ingest. One applied settlement, for its reversal and the insurer's monthly settlement. */
  settlement: (settlementId: string) => `hub:settlement:{${settlementId}}`,
  /** Owner: payout-ingest. One manual reimbursement claim. */
  manualClaim: (claimId: string) => `hub:claim:{${claimId}}`,
} as const;
