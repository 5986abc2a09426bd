import { readdirSync } from 'node:fs';
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  avroLogicalTypes,
  avroType,
  decodeRecord,
  encodeRecord,
  loadAllSchemas,
  schemaDirectoryPath,
} from '../../shared/avro.js';
import { Decimal } from '../../shared/money.js';
import {
  ENTRY_DIRECTIONS,
  HOSPITAL_MONTH_CHANGE_KINDS,
  LEDGER_ACCOUNTS,
  MEDICAL_TYPES,
  OPERATING_COST_CATEGORIES,
  PAYER_TYPES,
  PAYOUT_KINDS,
  PERIOD_KINDS,
  POSTING_KINDS,
  RECONCILIATION_KINDS,
  RECONCILIATION_STATUSES,
  RECORD_NAMESPACE,
  REFERRALS,
  SCHEMA_NAMES,
  SCHEMA_RECORD_NAMES,
} from '../../shared/records.js';
import { avroSamples } from '../fixtures/avro-samples.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every named type (record, enum) defined anywhere inside a schema, with where it was found. */
function namedTypes(node: Json, found: Map<string, JsonObject>): Map<string, JsonObject> {
  if (Array.isArray(node)) for (const item of node) namedTypes(item, found);
  if (!isObject(node)) return found;
  if ((node.type === 'record' || node.type === 'enum') && typeof node.name === 'string')
    found.set(node.name, node);
  for (const value of Object.values(node)) namedTypes(value, found);
  return found;
}

/** Every field of every record in a schema, as [record name, field]. */
function allFields(node: Json, out: Array<[string, JsonObject]> = []): Array<[string, JsonObject]> {
  if (Array.isArray(node)) for (const item of node) allFields(item, out);
  if (!isObject(node)) return out;
  if (node.type === 'record' && Array.isArray(node.fields)) {
    for (const field of node.fields) if (isObject(field)) out.push([String(node.name), field]);
  }
  for (const value of Object.values(node)) allFields(value, out);
  return out;
}

/** Every type node (object form) in a schema. */
function allTypeNodes(node: Json, out: JsonObject[] = []): JsonObject[] {
  if (Array.isArray(node)) for (const item of node) allTypeNodes(item, out);
  if (!isObject(node)) return out;
  if (typeof node.type === 'string') out.push(node);
  for (const value of Object.values(node)) allTypeNodes(value, out);
  return out;
}

const schemas = loadAllSchemas();
const asJson = (schema: AvroRecordSchema): Json => schema as unknown as Json;
const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

describe('schemas/*.avsc', () => {
  it('holds exactly the schemas the hub knows, one record per file named after it', () => {
    const files = readdirSync(schemaDirectoryPath()).filter((file) => file.endsWith('.avsc'));
    expect(files.map((file) => file.replace(/\.avsc$/, '')).sort()).toEqual([...SCHEMA_NAMES].sort());
    for (const [file, schema] of schemas) {
      expect(schema.type).toBe('record');
      expect(kebab(schema.name)).toBe(file);
      expect(`${schema.namespace}.${schema.name}`).toBe(
        SCHEMA_RECORD_NAMES[file as keyof typeof SCHEMA_RECORD_NAMES],
      );
      expect(schema.namespace?.startsWith(RECORD_NAMESPACE)).toBe(true);
    }
  });

  it.each(SCHEMA_NAMES)('%s parses with avsc and the hub logical types (asserted, no fallback)', (name) => {
    const type = avroType(name);
    expect(type.name).toBe(SCHEMA_RECORD_NAMES[name]);
    expect(avroType(name)).toBe(type);
  });

  it.each(SCHEMA_NAMES)('%s documents every record, enum and field, fields in camelCase', (name) => {
    const schema = asJson(schemas.get(name) as AvroRecordSchema);
    for (const [, named] of namedTypes(schema, new Map())) {
      expect(typeof named.doc === 'string' && named.doc.length > 0, `doc of ${String(named.name)}`).toBe(
        true,
      );
    }
    for (const [record, field] of allFields(schema)) {
      expect(field.name, `${record}.${String(field.name)}`).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(
        typeof field.doc === 'string' && field.doc.length > 3,
        `doc of ${record}.${String(field.name)}`,
      ).toBe(true);
    }
  });

  it.each(SCHEMA_NAMES)('%s never uses float or double, and money is decimal on bytes', (name) => {
    const schema = asJson(schemas.get(name) as AvroRecordSchema);
    expect(JSON.stringify(schema)).not.toMatch(/"(float|double)"/);
    for (const node of allTypeNodes(schema)) {
      if (node.logicalType === 'decimal') {
        expect(node.type).toBe('bytes');
        // Ratios in the disclosure are fractions with 4 decimals; everything else is money.
        expect([
          [18, 2],
          [9, 4],
        ]).toContainEqual([node.precision, node.scale]);
      }
      if (node.logicalType === 'date') expect(node.type).toBe('int');
      if (node.logicalType === 'timestamp-millis') expect(node.type).toBe('long');
    }
  });

  it.each(SCHEMA_NAMES)('%s writes optional fields as ["null", T] with default null', (name) => {
    const schema = asJson(schemas.get(name) as AvroRecordSchema);
    for (const [record, field] of allFields(schema)) {
      if (Array.isArray(field.type)) {
        expect(field.type[0], `${record}.${String(field.name)}`).toBe('null');
        expect(field.default, `${record}.${String(field.name)}`).toBeNull();
      }
    }
  });

  it('defines each shared enum identically in every file that uses it, matching shared/records.ts', () => {
    const definitions = new Map<string, string>();
    for (const [file, schema] of schemas) {
      for (const [typeName, definition] of namedTypes(asJson(schema), new Map())) {
        if (definition.type !== 'enum') continue;
        const text = JSON.stringify(definition);
        const earlier = definitions.get(typeName);
        if (earlier !== undefined) expect(text, `${typeName} in ${file}`).toBe(earlier);
        definitions.set(typeName, text);
      }
    }
    const expected: Record<string, readonly string[]> = {
      PayerType: PAYER_TYPES,
      MedicalType: MEDICAL_TYPES,
      Referral: REFERRALS,
      PayoutKind: PAYOUT_KINDS,
      LedgerAccount: LEDGER_ACCOUNTS,
      PostingKind: POSTING_KINDS,
      EntryDirection: ENTRY_DIRECTIONS,
      ReconciliationKind: RECONCILIATION_KINDS,
      ReconciliationStatus: RECONCILIATION_STATUSES,
      PeriodKind: PERIOD_KINDS,
      OperatingCostCategory: OPERATING_COST_CATEGORIES,
      HospitalMonthChangeKind: HOSPITAL_MONTH_CHANGE_KINDS,
    };
    expect([...definitions.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [typeName, symbols] of Object.entries(expected)) {
      expect((JSON.parse(definitions.get(typeName) ?? '{}') as { symbols: string[] }).symbols).toEqual([
        ...symbols,
      ]);
    }
  });

  it('names the national platform field in the doc of every settlement amount and id', () => {
    const settlement = schemas.get('hospital-settlement') as AvroRecordSchema;
    const docOf = (field: string) => settlement.fields.find((f) => f.name === field)?.doc ?? '';
    const platformFields: Record<string, string> = {
      settlementId: 'setl_id',
      visitId: 'mdtrt_id',
      hospitalSettlementId: 'medins_setl_id',
      personNo: 'psn_no',
      certificateType: 'psn_cert_type',
      nationalId: 'certno',
      insuranceType: 'insutype',
      hospitalCode: 'fixmedins_code',
      totalMedicalCost: 'medfee_sumamt',
      fullOwnPayAmount: 'fulamt_ownpay_amt',
      inScopeAmount: 'inscp_scp_amt',
      basicFundPaid: 'hifp_pay',
      supplementClaimed: 'hifob_pay',
      settledAt: 'setl_time',
    };
    for (const [field, platform] of Object.entries(platformFields))
      expect(docOf(field), field).toContain(platform);
  });

  it('keeps national IDs off every output record', () => {
    for (const name of [
      'ledger-posting',
      'reconciliation-result',
      'public-disclosure',
      'dead-letter',
    ] as const) {
      const fields = allFields(asJson(schemas.get(name) as AvroRecordSchema)).map(([, field]) => field.name);
      expect(fields).not.toContain('nationalId');
      expect(fields).not.toContain('personNo');
    }
  });
});

describe('records round-trip through their schema', () => {
  it.each(SCHEMA_NAMES)('%s: the TypeScript shape has exactly the schema fields', (name) => {
    const schemaFields = (schemas.get(name) as AvroRecordSchema).fields.map((field) => field.name);
    expect(Object.keys(avroSamples[name])).toEqual(schemaFields);
  });

  it.each(SCHEMA_NAMES)('%s: a realistic sample decodes to an equal value', (name) => {
    const sample = avroSamples[name];
    const decoded = decodeRecord(name, encodeRecord(name, sample));
    // Compare through JSON: Money and Date serialise to their exact text.
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(sample));
    expect(avroType(name).isValid(decoded)).toBe(true);
  });

  it('keeps money exact, with sign and trailing zeros as value', () => {
    const disclosure = decodeRecord(
      'public-disclosure',
      encodeRecord('public-disclosure', avroSamples['public-disclosure']),
    );
    expect(disclosure.premiumIncome.toFixed(2)).toBe('9999999999999999.99');
    expect(disclosure.surplusCarriedForward.eq(new Decimal('-1234.5'))).toBe(true);
    expect(disclosure.profitRate?.toFixed(4)).toBe('-0.0123');
    expect(disclosure.visits).toBeNull();
    const cost = decodeRecord(
      'operating-cost',
      encodeRecord('operating-cost', avroSamples['operating-cost']),
    );
    expect(Decimal.isDecimal(cost.amount)).toBe(true);
    expect(cost.amount.toFixed(2)).toBe('-0.01');
  });

  it('fills the payout kind from its default when a producer leaves it out', () => {
    const { payoutKind: _omitted, ...withoutKind } = avroSamples['operating-cost'];
    const bytes = avroType('operating-cost').toBuffer(withoutKind);
    expect(decodeRecord('operating-cost', bytes).payoutKind).toBe('OPERATING_COST');
  });

  it('refuses a ledger line with three decimals and names the field', () => {
    const posting = avroSamples['ledger-posting'];
    const bad = {
      ...posting,
      lines: [{ account: 'FUND_BANK' as const, direction: 'DEBIT' as const, amount: new Decimal('0.001') }],
    };
    expect(() => encodeRecord('ledger-posting', bad)).toThrow(
      /lines\.0\.amount: 0\.001 has 3 decimals; decimal\(18,2\)/,
    );
  });

  it('refuses bad money in an optional field too, naming value, precision and scale', () => {
    const posting = { ...avroSamples['ledger-posting'], dueAmount: new Decimal('12345678901234567') };
    expect(() => encodeRecord('ledger-posting', posting)).toThrow(
      /dueAmount: 12345678901234567 needs 19 digits; decimal\(18,2\) allows at most 18/,
    );
    expect(() => avroType('ledger-posting').toBuffer(posting)).toThrow(/12345678901234567/);
  });

  it('reads data written by an older writer through schema resolution (BACKWARD)', () => {
    const current = loadAllSchemas().get('operating-cost') as AvroRecordSchema;
    const older = { ...current, fields: current.fields.filter((field) => field.name !== 'description') };
    const olderType = avsc.Type.forSchema(older as unknown as Parameters<typeof avsc.Type.forSchema>[0], {
      logicalTypes: avroLogicalTypes,
    });
    const { description: _dropped, ...oldRecord } = avroSamples['operating-cost'];
    const resolver = avroType('operating-cost').createResolver(olderType);
    const read = avroType('operating-cost').fromBuffer(olderType.toBuffer(oldRecord), resolver) as {
      amount: Decimal;
      description: string | null;
      recordedOn: string;
    };
    expect(read.amount.toFixed(2)).toBe('-0.01');
    expect(read.recordedOn).toBe('2024-03-31');
    expect(read.description).toBeNull();
  });
});
