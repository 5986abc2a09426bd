import type { PublicDisclosure } from '../../../shared/records.js';
import { type DisclosureJson, toDisclosureJson } from '../chain.js';

/** The JSON feed: every disclosure in chain order, with what a reader needs to verify them. */
export interface DisclosureFeed {
  readonly format: typeof FEED_FORMAT;
  readonly generatedAt: string;
  /** The publisher's Ed25519 public key (SPKI PEM); pin it, do not trust it from the feed alone. */
  readonly publicKeyPem: string;
  readonly signingKeyId: string;
  readonly verify: string;
  readonly disclosures: DisclosureJson[];
}

export const FEED_FORMAT = 'medfund-hub/public-disclosures/v1';

export function jsonFeed(
  disclosures: readonly PublicDisclosure[],
  key: { readonly publicKeyPem: string; readonly keyId: string },
  generatedAt: Date,
): DisclosureFeed {
  return {
    format: FEED_FORMAT,
    generatedAt: generatedAt.toISOString(),
    publicKeyPem: key.publicKeyPem,
    signingKeyId: key.keyId,
    verify: 'npx hub disclosure verify --url <this feed> --public-key <the published public-key.pem>',
    disclosures: disclosures.map(toDisclosureJson),
  };
}

export function renderJson(
  disclosures: readonly PublicDisclosure[],
  key: { readonly publicKeyPem: string; readonly keyId: string },
  generatedAt: Date,
): string {
  return `${JSON.stringify(jsonFeed(disclosures, key, generatedAt), null, 2)}\n`;
}

/** Reads a feed: the envelope above, or a bare array of disclosures. */
export function parseJsonFeed(text: string): { disclosures: DisclosureJson[]; publicKeyPem: string | null } {
  const parsed = JSON.parse(text) as unknown;
  if (Array.isArray(parsed)) return { disclosures: parsed as DisclosureJson[], publicKeyPem: null };
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    Array.isArray((parsed as DisclosureFeed).disclosures)
  ) {
    const feed = parsed as DisclosureFeed;
    return {
      disclosures: feed.disclosures,
      publicKeyPem: typeof feed.publicKeyPem === 'string' ? feed.publicKeyPem : null,
    };
  }
  throw new TypeError('not a disclosure feed: expected { disclosures: [...] } or an array');
}
