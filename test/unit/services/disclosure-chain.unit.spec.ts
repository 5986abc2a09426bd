import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_AGGREGATE } from '../../../services/disclosure/aggregate.js';
import {
  canonicalForm,
  chainsFrom,
  type DisclosureJson,
  disclosureHash,
  fromDisclosureJson,
  keyIdOf,
  loadSigningKey,
  nextDisclosure,
  RegionChain,
  seal,
  signingKeyFrom,
  TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM,
  toDisclosureJson,
  verifyChain,
} from '../../../services/disclosure/chain.js';
import {
  computeFigures,
  type DisclosureFigures,
  paramsForPeriod,
} from '../../../services/disclosure/figures.js';
import { type Period, parsePeriod } from '../../../services/disclosure/periods.js';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import { ConfigError } from '../../../shared/errors.js';
import { Decimal, ZERO } from '../../../shared/money.js';
import type { PublicDisclosure } from '../../../shared/records.js';

const DEHONG = '533100';
const key = signingKeyFrom(TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM);
const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n));

function figures(label: string, premiums = '1000.00', open = 0): DisclosureFigures {
  const period = parsePeriod(label) as Period;
  return computeFigures({
    region: DEHONG,
    period,
    aggregate: {
      ...EMPTY_AGGREGATE,
      premiumIncome: new Decimal(premiums),
      claimsPaidDirect: new Decimal('600.00'),
      operatingCost: new Decimal('50.00'),
      visits: 12,
    },
    surplusBroughtForward: ZERO,
    insuredPersons: 40,
    beneficiaries: 11,
    reconciliation: { openItems: open, discrepancies: 0, openAmount: ZERO },
    params: paramsForPeriod(DEHONG, period),
    threshold: 10,
  });
}

/** Publishes figures in order on one chain, skipping unchanged ones, as the publisher does. */
function publishAll(list: DisclosureFigures[], chain = new RegionChain(DEHONG)): PublicDisclosure[] {
  list.forEach((f, i) => {
    const record = nextDisclosure(chain, f, at(chain.lastSequence + i), key);
    if (record) chain.append(record);
  });
  return [...chain.records];
}

const json = (records: readonly PublicDisclosure[]): DisclosureJson[] => records.map(toDisclosureJson);

describe('disclosure chain', () => {
  it('chains, hashes and signs so that the whole chain verifies', () => {
    const records = publishAll([figures('2025-01'), figures('2025-02'), figures('2025-Q1'), figures('2025')]);
    expect(records.map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
    expect(records[0]?.previousHash).toBeNull();
    expect(records[1]?.previousHash).toBe(records[0]?.hash);
    expect(records[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(records[0]?.signingKeyId).toBe(keyIdOf(key.publicKey));
    expect(records[0]?.signingKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(verifyChain(records, key.publicKey)).toEqual([]);
    expect(verifyChain(json(records), key.publicKey)).toEqual([]);
  });

  it('hashes a canonical form: sorted keys, text money and ratios, without hash and signature', () => {
    const [record] = publishAll([figures('2025-01')]) as [PublicDisclosure];
    const canonical = canonicalForm(record);
    const parsed = JSON.parse(canonical) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
    expect(parsed).not.toHaveProperty('hash');
    expect(parsed).not.toHaveProperty('signature');
    expect(parsed).toMatchObject({
      premiumIncome: '1000.00',
      lossRatio: '0.6000',
      operatingCostRatio: '0.0500',
      operatingCostCeiling: '0.0900',
      periodStart: '2025-01-01',
      publishedAt: '2026-01-01T00:00:00.000Z',
      changes: [],
      previousHash: null,
    });
    expect(canonical).not.toMatch(/\s/);
    expect(disclosureHash(record)).toBe(record.hash);
  });

  it('survives the Avro round trip on the topic unchanged', () => {
    const records = publishAll([figures('2025-01'), figures('2025-01', '1200.00')]);
    const decoded = records.map((r) =>
      decodeRecord('public-disclosure', encodeRecord('public-disclosure', r)),
    );
    expect(verifyChain(decoded, key.publicKey)).toEqual([]);
    expect(json(decoded)).toEqual(json(records));
    expect(json(json(records).map(fromDisclosureJson))).toEqual(json(records));
  });

  it('finds a tampered figure', () => {
    const feed = json(publishAll([figures('2025-01'), figures('2025-02')]));
    (feed[1] as DisclosureJson).premiumIncome = '999.00';
    expect(verifyChain(feed, key.publicKey)).toEqual([
      expect.stringMatching(/^533100 #2 \(2025-02\): hash does not match/),
    ]);
  });

  it('finds a tampered signature, and a signature by another key', () => {
    const feed = json(publishAll([figures('2025-01')]));
    const record = feed[0] as DisclosureJson;
    const bytes = Buffer.from(record.signature, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    expect(verifyChain([{ ...record, signature: bytes.toString('base64') }], key.publicKey)).toEqual([
      expect.stringMatching(/signature does not verify/),
    ]);
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyChain(feed, other)).toEqual([
      expect.stringMatching(/signed by key [0-9a-f]{16}, not by the given key/),
    ]);
  });

  it('finds a removed record: the gap and the broken link', () => {
    const feed = json(publishAll([figures('2025-01'), figures('2025-02'), figures('2025-03')]));
    const problems = verifyChain([feed[0], feed[2]] as DisclosureJson[], key.publicKey);
    expect(problems).toEqual([
      expect.stringMatching(/#3 \(2025-03\): sequence gap: expected 2, found 3/),
      expect.stringMatching(/#3 \(2025-03\): previousHash [0-9a-f]{64} does not link to #1/),
    ]);
    expect(verifyChain(feed.slice(1), key.publicKey)).toEqual(
      expect.arrayContaining([expect.stringMatching(/sequence gap: expected 1, found 2/)]),
    );
  });

  it('publishes a changed period as a numbered correction saying what changed, an unchanged one not at all', () => {
    const records = publishAll([
      figures('2025-01'),
      figures('2025-02'),
      figures('2025-01'), // unchanged: nothing
      figures('2025-01', '1200.00'),
      figures('2025-01', '1250.00'),
    ]);
    expect(records.map((r) => [r.periodLabel, r.sequence, r.correction, r.supersedesSequence])).toEqual([
      ['2025-01', 1, 0, null],
      ['2025-02', 2, 0, null],
      ['2025-01', 3, 1, 1],
      ['2025-01', 4, 2, 3],
    ]);
    expect(records[2]?.changes).toEqual([
      'premiumIncome: 1000.00 → 1200.00',
      'operatingCostRatio: 0.0500 → 0.0417',
      'profitRate: 0.3500 → 0.4583',
      'lossRatio: 0.6000 → 0.5000',
      'surplusCarriedForward: 350.00 → 550.00',
    ]);
    expect(records[0]?.changes).toEqual([]);
    expect(verifyChain(records, key.publicKey)).toEqual([]);
    // Never rewritten: the first publication is still there as it was.
    expect(records[0]?.premiumIncome.toFixed(2)).toBe('1000.00');
    expect(chainsFrom(records).get(DEHONG)?.latest('2025-01')?.sequence).toBe(4);
  });

  it('corrects a year, not its months, when only a year-level figure moved (reconciliation, insured)', () => {
    const chain = new RegionChain(DEHONG);
    publishAll([figures('2025-01'), figures('2025-Q1'), figures('2025')], chain);
    expect(nextDisclosure(chain, figures('2025-01', '1000.00', 3), at(9), key)).toBeNull();
    expect(nextDisclosure(chain, { ...figures('2025-Q1'), insuredPersons: 41 }, at(9), key)).toBeNull();
    const year = nextDisclosure(chain, { ...figures('2025', '1000.00', 3), insuredPersons: 41 }, at(9), key);
    expect(year?.changes).toEqual(['insuredPersons: 40 → 41', 'reconciliationOpenItems: 0 → 3']);
    // A month corrected for another reason carries the year-level figures as they are now.
    const month = nextDisclosure(
      chain,
      { ...figures('2025-01', '1100.00', 3), insuredPersons: 41 },
      at(9),
      key,
    );
    expect(month?.changes).toContain('reconciliationOpenItems: 0 → 3');
    expect(month?.insuredPersons).toBe(41);
  });

  it('finds corrections that do not supersede correctly', () => {
    const records = publishAll([figures('2025-01'), figures('2025-01', '1200.00')]);
    const reseal = (record: PublicDisclosure, change: Partial<PublicDisclosure>) =>
      seal({ ...record, ...change }, key);
    const second = records[1] as PublicDisclosure;
    expect(
      verifyChain([records[0] as PublicDisclosure, reseal(second, { correction: 2 })], key.publicKey),
    ).toEqual([expect.stringMatching(/correction 2 follows correction 0; expected 1/)]);
    expect(
      verifyChain([records[0] as PublicDisclosure, reseal(second, { supersedesSequence: 7 })], key.publicKey),
    ).toEqual([expect.stringMatching(/supersedes #7, but the period's latest is #1/)]);
    expect(
      verifyChain(
        [records[0] as PublicDisclosure, reseal(second, { correction: 0, supersedesSequence: null })],
        key.publicKey,
      ),
    ).toEqual([expect.stringMatching(/already published as #1; a republication must be a correction/)]);
    expect(
      verifyChain([records[0] as PublicDisclosure, reseal(second, { changes: [] })], key.publicKey),
    ).toEqual([expect.stringMatching(/a correction must say what changed/)]);
  });

  it('keeps one chain per region', () => {
    const dehong = publishAll([figures('2025-01')]);
    const other = seal({ ...(dehong[0] as PublicDisclosure), regionCode: '410200' }, key);
    expect(verifyChain([...dehong, other], key.publicKey)).toEqual([]);
  });

  it('loads the signing key from PEM or base64 DER, refuses other keys, and always needs one', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const fromPem = loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: pem });
    expect(loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: der }).keyId).toBe(fromPem.keyId);
    expect(loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: pem.replace(/\n/g, '\\n') }).keyId).toBe(
      fromPem.keyId,
    );
    expect(fromPem.testOnly).toBe(false);
    // The public test key is passed in like any other, and is known for what it is.
    expect(
      loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM }),
    ).toMatchObject({
      testOnly: true,
      keyId: key.keyId,
    });
    expect(() => loadSigningKey({})).toThrow(ConfigError);
    expect(() => loadSigningKey({})).toThrow(/HUB_DISCLOSURE_SIGNING_KEY is not set/);
    // Running under a test runner does not switch to the test key.
    expect(() => loadSigningKey({ VITEST: 'true' })).toThrow(/HUB_DISCLOSURE_SIGNING_KEY is not set/);
    expect(() => loadSigningKey({ NODE_ENV: 'test' })).toThrow(/HUB_DISCLOSURE_SIGNING_KEY is not set/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() =>
      loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: rsa.export({ format: 'pem', type: 'pkcs8' }).toString() }),
    ).toThrow(/Ed25519/);
    expect(() => loadSigningKey({ HUB_DISCLOSURE_SIGNING_KEY: 'not a key' })).toThrow(ConfigError);
  });
});
