import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../shared/errors.js';
import { Decimal, type Money } from '../../shared/money.js';
import type { PeriodKind, PublicDisclosure } from '../../shared/records.js';
import type { DisclosureFigures } from './figures.js';

/**
 * The region's hash chain of disclosures: canonical form, SHA-256 hash, Ed25519
 * signature, and the checks anyone can run on a published feed. A published disclosure is never
 * rewritten: a changed period gets a new record, correction n + 1, superseding the last one.
 */

// ---------------------------------------------------------------------------------------------
// JSON form: the feed's representation, and the text the hash is taken over

/** A disclosure as published in JSON: money as "1234.50", ratios as "0.0850", dates as text. */
export interface DisclosureJson {
  regionCode: string;
  periodKind: PeriodKind;
  periodLabel: string;
  periodStart: string;
  periodEnd: string;
  sequence: number;
  correction: number;
  supersedesSequence: number | null;
  changes: string[];
  publishedAt: string;
  parametersIllustrative: boolean;
  insuredPersons: number | null;
  premiumIncome: string;
  claimsPaidDirect: string;
  claimsPaidManual: string;
  beneficiaries: number | null;
  visits: number | null;
  operatingCost: string;
  operatingCostRatio: string | null;
  operatingCostCeiling: string | null;
  profitRate: string | null;
  profitRateCeiling: string | null;
  lossRatio: string | null;
  surplusCarriedForward: string;
  manualClaimsDecided: number | null;
  manualClaimsWithinSla: number | null;
  slaCompliance: string | null;
  reconciliationOpenItems: number;
  reconciliationDiscrepancies: number;
  reconciliationOpenAmount: string;
  suppressionThreshold: number;
  previousHash: string | null;
  hash: string;
  signingKeyId: string;
  signature: string;
}

/** Amounts in yuan, two decimals. */
export const MONEY_FIELDS = [
  'premiumIncome',
  'claimsPaidDirect',
  'claimsPaidManual',
  'operatingCost',
  'surplusCarriedForward',
  'reconciliationOpenAmount',
] as const;
/** Fractions, four decimals (decimal(9,4)). */
export const RATIO_FIELDS = [
  'operatingCostRatio',
  'operatingCostCeiling',
  'profitRate',
  'profitRateCeiling',
  'lossRatio',
  'slaCompliance',
] as const;

/** The published figures (what a correction compares), in schema order. */
export const FIGURE_FIELDS = [
  'parametersIllustrative',
  'insuredPersons',
  'premiumIncome',
  'claimsPaidDirect',
  'claimsPaidManual',
  'beneficiaries',
  'visits',
  'operatingCost',
  'operatingCostRatio',
  'operatingCostCeiling',
  'profitRate',
  'profitRateCeiling',
  'lossRatio',
  'surplusCarriedForward',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
  'slaCompliance',
  'reconciliationOpenItems',
  'reconciliationDiscrepancies',
  'reconciliationOpenAmount',
  'suppressionThreshold',
] as const satisfies readonly (keyof DisclosureFigures)[];
export type FigureField = (typeof FIGURE_FIELDS)[number];

/** Every field of the schema, in schema order. */
export const DISCLOSURE_FIELDS = [
  'regionCode',
  'periodKind',
  'periodLabel',
  'periodStart',
  'periodEnd',
  'sequence',
  'correction',
  'supersedesSequence',
  'changes',
  'publishedAt',
  ...FIGURE_FIELDS,
  'previousHash',
  'hash',
  'signingKeyId',
  'signature',
] as const satisfies readonly (keyof PublicDisclosure)[];

/**
 * Figures of the insurance year as a whole, carried by months and quarters as at their publication:
 * a change of these alone corrects the YEAR only, not every month and quarter of it.
 */
const YEAR_LEVEL_FIELDS = new Set<FigureField>([
  'insuredPersons',
  'reconciliationOpenItems',
  'reconciliationDiscrepancies',
  'reconciliationOpenAmount',
]);

const money = (amount: Money) => (amount.isZero() ? '0.00' : amount.toFixed(2));
const ratio = (value: Money | null) => (value === null ? null : value.isZero() ? '0.0000' : value.toFixed(4));

/** The text form of one figure, as in the JSON feed (null stays null). */
export function figureText(record: DisclosureFigures, field: FigureField): string | number | boolean | null {
  const value = record[field];
  if ((MONEY_FIELDS as readonly string[]).includes(field)) return money(value as Money);
  if ((RATIO_FIELDS as readonly string[]).includes(field)) return ratio(value as Money | null);
  return value as number | boolean | null;
}

export function toDisclosureJson(record: PublicDisclosure): DisclosureJson {
  const json: Record<string, unknown> = {};
  for (const field of DISCLOSURE_FIELDS) json[field] = record[field];
  for (const field of FIGURE_FIELDS) json[field] = figureText(record, field);
  json.changes = [...record.changes];
  json.publishedAt = record.publishedAt.toISOString();
  return json as unknown as DisclosureJson;
}

/** Back from the feed's JSON (trusted input: it is checked by verifyChain, not here). */
export function fromDisclosureJson(json: DisclosureJson): PublicDisclosure {
  const record: Record<string, unknown> = { ...json };
  for (const field of MONEY_FIELDS) record[field] = new Decimal(json[field]);
  for (const field of RATIO_FIELDS) record[field] = json[field] === null ? null : new Decimal(json[field]);
  record.publishedAt = new Date(json.publishedAt);
  record.changes = [...(json.changes ?? [])];
  return record as unknown as PublicDisclosure;
}

const isJson = (record: PublicDisclosure | DisclosureJson): record is DisclosureJson =>
  typeof record.publishedAt === 'string';

const asJson = (record: PublicDisclosure | DisclosureJson): DisclosureJson =>
  isJson(record) ? record : toDisclosureJson(record);

/**
 * The canonical form: UTF-8 JSON of every schema field except hash and signature, keys sorted, no
 * whitespace; money "1234.50", ratios "0.0850", dates "YYYY-MM-DD", publishedAt ISO-8601 UTC with ms.
 */
export function canonicalForm(record: PublicDisclosure | DisclosureJson): string {
  const json = asJson(record) as unknown as Record<string, unknown>;
  const fields = DISCLOSURE_FIELDS.filter((field) => field !== 'hash' && field !== 'signature').sort();
  const parts = fields.map((field) => {
    const value = json[field];
    if (value === undefined) throw new TypeError(`field ${field} is missing`);
    return `${JSON.stringify(field)}:${JSON.stringify(value)}`;
  });
  return `{${parts.join(',')}}`;
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export const disclosureHash = (record: PublicDisclosure | DisclosureJson): string =>
  sha256Hex(Buffer.from(canonicalForm(record), 'utf8'));

// ---------------------------------------------------------------------------------------------
// Keys

export const SIGNING_KEY_ENV = 'HUB_DISCLOSURE_SIGNING_KEY';
export const SIGNING_KEY_FILE_ENV = 'HUB_DISCLOSURE_SIGNING_KEY_FILE';

/** The publisher's Ed25519 key. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** First 16 hex characters of SHA-256 of the public key's SPKI DER. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  /** True for the public test key, which protects nothing: the service warns when it signs with it. */
  readonly testOnly: boolean;
}

// PKCS#8 DER header of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** For tests, which pass it in as any other key: derived from a public phrase, so it protects nothing. */
export const TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM = createPrivateKey({
  key: Buffer.concat([
    ED25519_PKCS8_PREFIX,
    createHash('sha256')
      .update('medfund-hub TEST ONLY disclosure signing key - never use in production')
      .digest(),
  ]),
  format: 'der',
  type: 'pkcs8',
})
  .export({ format: 'pem', type: 'pkcs8' })
  .toString();

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ format: 'der', type: 'spki' })).slice(0, 16);
}

/** A public key from PEM (SPKI) text, for verifiers. */
export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError('the public key is not an Ed25519 key');
  return key;
}

const TEST_ONLY_KEY_ID = keyIdOf(createPublicKey(TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM));

/** A signing key from PKCS#8 PEM or base64 PKCS#8 DER. */
export function signingKeyFrom(text: string): SigningKey {
  const trimmed = text.trim().replace(/\\n/g, '\n');
  let privateKey: KeyObject;
  try {
    privateKey = trimmed.includes('-----BEGIN')
      ? createPrivateKey(trimmed)
      : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new ConfigError(`${SIGNING_KEY_ENV} is neither a PKCS#8 PEM nor base64 PKCS#8 DER private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(
      `${SIGNING_KEY_ENV} is a ${privateKey.asymmetricKeyType} key; disclosures are signed with Ed25519`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    privateKey,
    publicKey,
    keyId,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    testOnly: keyId === TEST_ONLY_KEY_ID,
  };
}

/**
 * Reads HUB_DISCLOSURE_SIGNING_KEY (or the file HUB_DISCLOSURE_SIGNING_KEY_FILE names) from the
 * configuration given; missing stops the process with one line. Tests set it like any deployment:
 * no environment switches to another key by itself.
 */
export function loadSigningKey(env: Readonly<Record<string, string | undefined>> = process.env): SigningKey {
  const text = env[SIGNING_KEY_ENV]?.trim();
  if (text) return signingKeyFrom(text);
  const file = env[SIGNING_KEY_FILE_ENV]?.trim();
  if (file) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${SIGNING_KEY_FILE_ENV}: cannot read ${file}: ${(error as Error).message}`);
    }
    return signingKeyFrom(content);
  }
  throw new ConfigError(
    `${SIGNING_KEY_ENV} is not set: give an Ed25519 private key as PKCS#8 PEM or base64 DER (\`npx hub disclosure keygen\` makes one)`,
  );
}

export const signHash = (hash: string, key: SigningKey): string =>
  signBytes(null, Buffer.from(hash, 'utf8'), key.privateKey).toString('base64');

export function signatureValid(hash: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verifyBytes(null, Buffer.from(hash, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Fills signingKeyId, hash and signature. */
export function seal(record: PublicDisclosure, key: SigningKey): PublicDisclosure {
  const keyed = { ...record, signingKeyId: key.keyId, hash: '', signature: '' };
  const hash = disclosureHash(keyed);
  return { ...keyed, hash, signature: signHash(hash, key) };
}

// ---------------------------------------------------------------------------------------------
// The chain of one region

/** What the publisher knows of a region's chain: its end and the latest record of each period. */
export class RegionChain {
  private readonly all: PublicDisclosure[] = [];
  private readonly latestByPeriod = new Map<string, PublicDisclosure>();

  constructor(readonly region: string) {}

  get lastSequence(): number {
    return this.all.at(-1)?.sequence ?? 0;
  }

  get lastHash(): string | null {
    return this.all.at(-1)?.hash ?? null;
  }

  get records(): readonly PublicDisclosure[] {
    return this.all;
  }

  latest(periodLabel: string): PublicDisclosure | undefined {
    return this.latestByPeriod.get(periodLabel);
  }

  /** The latest record of every period, in chain order. */
  latestRecords(): PublicDisclosure[] {
    return [...this.latestByPeriod.values()].sort((a, b) => a.sequence - b.sequence);
  }

  /** A copy to stage appends on; it replaces this one once they are committed. */
  clone(): RegionChain {
    const copy = new RegionChain(this.region);
    for (const record of this.all) copy.append(record);
    return copy;
  }

  append(record: PublicDisclosure): void {
    this.all.push(record);
    this.latestByPeriod.set(record.periodLabel, record);
  }
}

/** Groups records by region in chain order. */
export function chainsFrom(records: readonly PublicDisclosure[]): Map<string, RegionChain> {
  const byRegion = new Map<string, PublicDisclosure[]>();
  for (const record of records) {
    const list = byRegion.get(record.regionCode) ?? [];
    list.push(record);
    byRegion.set(record.regionCode, list);
  }
  const chains = new Map<string, RegionChain>();
  for (const [region, list] of byRegion) {
    const chain = new RegionChain(region);
    for (const record of list.sort((a, b) => a.sequence - b.sequence)) chain.append(record);
    chains.set(region, chain);
  }
  return chains;
}

function triggersCorrection(field: FigureField, kind: PeriodKind): boolean {
  return kind === 'YEAR' || !YEAR_LEVEL_FIELDS.has(field);
}

/** "field: old → new" for every figure that differs. */
export function describeChanges(previous: DisclosureFigures, next: DisclosureFigures): string[] {
  const show = (value: string | number | boolean | null) => (value === null ? 'null' : String(value));
  const changes: string[] = [];
  for (const field of FIGURE_FIELDS) {
    const before = figureText(previous, field);
    const after = figureText(next, field);
    if (before !== after) changes.push(`${field}: ${show(before)} → ${show(after)}`);
  }
  return changes;
}

function changedMaterially(previous: DisclosureFigures, next: DisclosureFigures): boolean {
  return FIGURE_FIELDS.some(
    (field) =>
      triggersCorrection(field, next.periodKind) && figureText(previous, field) !== figureText(next, field),
  );
}

/**
 * The record to append for these figures: the first publication of the period, or a correction of
 * its latest one; null when nothing published would change.
 */
export function nextDisclosure(
  chain: RegionChain,
  figures: DisclosureFigures,
  publishedAt: Date,
  key: SigningKey,
): PublicDisclosure | null {
  const previous = chain.latest(figures.periodLabel);
  if (previous !== undefined && !changedMaterially(previous, figures)) return null;
  const record: PublicDisclosure = {
    regionCode: figures.regionCode,
    periodKind: figures.periodKind,
    periodLabel: figures.periodLabel,
    periodStart: figures.periodStart,
    periodEnd: figures.periodEnd,
    sequence: chain.lastSequence + 1,
    correction: previous === undefined ? 0 : previous.correction + 1,
    supersedesSequence: previous?.sequence ?? null,
    changes: previous === undefined ? [] : describeChanges(previous, figures),
    publishedAt,
    parametersIllustrative: figures.parametersIllustrative,
    insuredPersons: figures.insuredPersons,
    premiumIncome: figures.premiumIncome,
    claimsPaidDirect: figures.claimsPaidDirect,
    claimsPaidManual: figures.claimsPaidManual,
    beneficiaries: figures.beneficiaries,
    visits: figures.visits,
    operatingCost: figures.operatingCost,
    operatingCostRatio: figures.operatingCostRatio,
    operatingCostCeiling: figures.operatingCostCeiling,
    profitRate: figures.profitRate,
    profitRateCeiling: figures.profitRateCeiling,
    lossRatio: figures.lossRatio,
    surplusCarriedForward: figures.surplusCarriedForward,
    manualClaimsDecided: figures.manualClaimsDecided,
    manualClaimsWithinSla: figures.manualClaimsWithinSla,
    slaCompliance: figures.slaCompliance,
    reconciliationOpenItems: figures.reconciliationOpenItems,
    reconciliationDiscrepancies: figures.reconciliationDiscrepancies,
    reconciliationOpenAmount: figures.reconciliationOpenAmount,
    suppressionThreshold: figures.suppressionThreshold,
    previousHash: chain.lastHash,
    hash: '',
    signingKeyId: key.keyId,
    signature: '',
  };
  return seal(record, key);
}

// ---------------------------------------------------------------------------------------------
// Verification

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks every region's chain in a list of disclosures (JSON feed or decoded records): each hash
 * over its canonical form, each signature by `publicKey`, the previousHash links, sequences 1, 2, 3 …
 * without gaps, and that each correction supersedes the period's latest record with correction n + 1.
 * Returns the problems found, empty when all holds.
 */
export function verifyChain(
  disclosures: ReadonlyArray<PublicDisclosure | DisclosureJson>,
  publicKey: KeyObject,
): string[] {
  const problems: string[] = [];
  const expectedKeyId = keyIdOf(publicKey);
  const byRegion = new Map<string, DisclosureJson[]>();
  for (const record of disclosures) {
    const json = asJson(record);
    const list = byRegion.get(json.regionCode) ?? [];
    list.push(json);
    byRegion.set(json.regionCode, list);
  }
  for (const [region, records] of byRegion) {
    const sorted = [...records].sort((a, b) => a.sequence - b.sequence);
    let expectedSequence = 1;
    let previous: DisclosureJson | undefined;
    const latestByPeriod = new Map<string, DisclosureJson>();
    for (const record of sorted) {
      const at = `${region} #${record.sequence} (${record.periodLabel})`;
      if (record.sequence !== expectedSequence) {
        problems.push(
          record.sequence < expectedSequence
            ? `${at}: sequence ${record.sequence} appears twice`
            : `${at}: sequence gap: expected ${expectedSequence}, found ${record.sequence} (records removed?)`,
        );
      }
      expectedSequence = record.sequence + 1;
      let recomputed: string | undefined;
      try {
        recomputed = disclosureHash(record);
      } catch (error) {
        problems.push(`${at}: malformed record: ${(error as Error).message}`);
      }
      if (recomputed !== undefined && recomputed !== record.hash)
        problems.push(`${at}: hash does not match the record's content (altered after signing?)`);
      if (!HEX64.test(record.hash)) problems.push(`${at}: hash is not 64 lowercase hex characters`);
      if (record.signingKeyId !== expectedKeyId)
        problems.push(`${at}: signed by key ${record.signingKeyId}, not by the given key ${expectedKeyId}`);
      else if (!signatureValid(record.hash, record.signature, publicKey))
        problems.push(`${at}: signature does not verify with the given public key`);
      const expectedPrevious = previous?.hash ?? null;
      if (record.previousHash !== expectedPrevious) {
        problems.push(
          `${at}: previousHash ${record.previousHash ?? 'null'} does not link to ${
            previous === undefined
              ? 'the start of the chain (null)'
              : `#${previous.sequence} ${expectedPrevious}`
          }`,
        );
      }
      const superseded = latestByPeriod.get(record.periodLabel);
      if (record.correction === 0) {
        if (record.supersedesSequence !== null)
          problems.push(`${at}: a first publication (correction 0) supersedes nothing`);
        if (superseded !== undefined)
          problems.push(
            `${at}: period already published as #${superseded.sequence}; a republication must be a correction`,
          );
      } else if (superseded === undefined) {
        problems.push(`${at}: correction ${record.correction} of a period never published before`);
      } else {
        if (record.supersedesSequence !== superseded.sequence)
          problems.push(
            `${at}: supersedes #${record.supersedesSequence ?? 'null'}, but the period's latest is #${superseded.sequence}`,
          );
        if (record.correction !== superseded.correction + 1)
          problems.push(
            `${at}: correction ${record.correction} follows correction ${superseded.correction}; expected ${superseded.correction + 1}`,
          );
        if ((record.changes ?? []).length === 0) problems.push(`${at}: a correction must say what changed`);
      }
      latestByPeriod.set(record.periodLabel, record);
      previous = record;
    }
  }
  return problems;
}
