import { describe, expect, it } from 'vitest';
import { readMedicalType } from '../../services/hub-cli/policy-requests.js';

// `hub policy` takes the medical type in the policy's words or as the records' Avro enum name.

describe('hub policy: the medical type of a request', () => {
  it.each([
    { given: 'inpatient', type: 'inpatient' },
    { given: 'pharmacy', type: 'pharmacy' },
    { given: 'INPATIENT', type: 'inpatient' },
    { given: 'SPECIAL_OUTPATIENT', type: 'special-outpatient' },
  ])('$given is $type', ({ given, type }) => {
    expect(readMedicalType(given, 'claim.medicalType')).toEqual({ ok: true, value: type });
  });

  it('anything else is refused, naming both spellings', () => {
    expect(readMedicalType('PHARMACY', 'claim.medicalType')).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: 'NOT_ALLOWED',
        field: 'claim.medicalType',
        rule: "expected one of inpatient, special-outpatient, general-outpatient, pharmacy (or the records' INPATIENT, SPECIAL_OUTPATIENT)",
      }),
    });
  });
});
