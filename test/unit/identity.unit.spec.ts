import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeInvalidInput } from '../../shared/errors.js';
import {
  isMemberPseudonym,
  loadPseudonymKey,
  maskNationalId,
  type NationalId,
  type NationalIdRules,
  nationalIdCheckCharacter,
  type PseudonymKey,
  pseudonymFor,
  TEST_ONLY_PSEUDONYM_KEY,
  validateNationalId,
} from '../../shared/identity.js';

const TODAY: NationalIdRules = { today: '2025-06-01' };
// GB 11643-1999's own published examples (its annex), with their check characters.
const STANDARD_EXAMPLE_1949 = '11010519491231002X';
const STANDARD_EXAMPLE_1880 = '440524188001010014';

/** A syntactically valid ID built from the algorithm, for cases beyond the published examples. */
const withCheck = (first17: string) => `${first17}${nationalIdCheckCharacter(first17)}`;

function validId(text: string, rules = TODAY): NationalId {
  const result = validateNationalId(text, 'nationalId', rules);
  if (!result.ok) throw new Error(describeInvalidInput(result.error));
  return result.value;
}

function refusal(text: string, rules = TODAY) {
  const result = validateNationalId(text, 'member.nationalId', rules);
  if (result.ok) throw new Error(`expected ${maskNationalId(text)} to be refused`);
  return result.error;
}

describe('nationalIdCheckCharacter: ISO 7064 MOD 11-2', () => {
  it.each([
    [STANDARD_EXAMPLE_1949, 'X'],
    [STANDARD_EXAMPLE_1880, '4'],
  ])('gives the published check character of %s', (id, check) => {
    expect(nationalIdCheckCharacter(id.slice(0, 17))).toBe(check);
    expect(id.at(-1)).toBe(check);
  });

  it('maps every remainder 0..10 to "10X98765432"', () => {
    const seen = new Set<string>();
    for (let serial = 0; serial < 200; serial += 1) {
      seen.add(nationalIdCheckCharacter(`41020219900307${String(serial).padStart(3, '0')}`));
    }
    expect([...seen].sort()).toEqual([...'0123456789X'].sort());
  });
});

describe('validateNationalId (GB 11643-1999)', () => {
  it('accepts the standard’s 1949 example', () => {
    expect(validId(STANDARD_EXAMPLE_1949)).toBe('11010519491231002X');
  });

  it('accepts the standard’s 1880 example once births before 1900 are allowed, and refuses it by default', () => {
    expect(validId(STANDARD_EXAMPLE_1880, { ...TODAY, earliestBirthDate: '1870-01-01' })).toBe(
      STANDARD_EXAMPLE_1880,
    );
    expect(refusal(STANDARD_EXAMPLE_1880).code).toBe('ID_BIRTH_DATE');
  });

  it('normalises a lowercase x to X', () => {
    expect(validId('11010519491231002x')).toBe('11010519491231002X');
  });

  it.each([
    ['Kaifeng, leap day', withCheck('41020219960229123')],
    ['Dehong, born yesterday', withCheck('53310220250531004')],
    ['born on 1900-01-01', withCheck('51010219000101001')],
    ['born today', withCheck('82000020250601002')],
  ])('accepts a computed valid ID: %s', (_case, id) => {
    expect(validId(id)).toBe(id);
  });

  it('refuses a wrong check character', () => {
    const error = refusal('110105194912310021');
    expect(error).toMatchObject({ kind: 'invalid-input', code: 'ID_CHECKSUM', field: 'member.nationalId' });
    expect(error.rule).toContain('MOD 11-2');
  });

  it.each([
    ['30 February', withCheck('41020219900230123')],
    ['29 February in a common year', withCheck('41020219230229123')],
    ['month 13', withCheck('41020219901301123')],
    ['day 00', withCheck('41020219900100123')],
    ['a future birth date', withCheck('41020220250602123')],
    ['a birth date before 1900', withCheck('41020218991231123')],
  ])('refuses %s with ID_BIRTH_DATE', (_case, id) => {
    expect(refusal(id).code).toBe('ID_BIRTH_DATE');
  });

  it('judges the future against the injected today', () => {
    const id = withCheck('41020220300101123');
    expect(refusal(id).code).toBe('ID_BIRTH_DATE');
    expect(validId(id, { today: '2030-01-01' })).toBe(id);
  });

  it.each([
    ['17 characters', '11010519491231002'],
    ['19 characters', '11010519491231002X1'],
    ['letters', '1101051949123A002X'],
    ['X not last', 'X1010519491231002X'],
    ['spaces around', ' 11010519491231002X'],
    ['full-width digits', '１１０１０５１９４９１２３１００２Ｘ'],
    ['empty', ''],
  ])('refuses %s with ID_FORMAT', (_case, text) => {
    expect(refusal(text).code).toBe('ID_FORMAT');
  });

  it.each([
    ['0', withCheck('01010519491231002')],
    ['9', withCheck('91010519491231002')],
  ])('refuses an area code starting with %s', (_digit, id) => {
    expect(refusal(id).code).toBe('ID_AREA_CODE');
  });

  it('never puts the full ID into a refusal, only a masked form', () => {
    const wrong = '110105194912310021';
    const error = refusal(wrong);
    expect(error.value).toBe('1101**********0021');
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(JSON.stringify(error)).not.toContain('19491231');
    expect(refusal('11010519491231002').value).toBe('[17 characters]');
  });

  it('property: no refusal ever carries the digits that identify the person', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789Xx'), minLength: 18, maxLength: 18 });
    fc.assert(
      fc.property(digits, (text) => {
        const result = validateNationalId(text, 'nationalId', TODAY);
        return result.ok || !JSON.stringify(result.error).includes(text.slice(4, 14));
      }),
    );
  });
});

describe('maskNationalId', () => {
  it('keeps the first and last four characters of an 18-character ID', () => {
    expect(maskNationalId('41020219900307123X')).toBe('4102**********123X');
  });

  it('shows only the length of anything else', () => {
    expect(maskNationalId('4102021990030712')).toBe('[16 characters]');
  });
});

describe('pseudonymFor', () => {
  const keyA = Buffer.alloc(32, 0xa5) as PseudonymKey;
  const keyB = Buffer.alloc(32, 0x5a) as PseudonymKey;
  const member = validId(STANDARD_EXAMPLE_1949);

  it('is deterministic for one key and fixed-length "m_" + 32 lowercase hex', () => {
    const pseudonym = pseudonymFor(member, keyA);
    expect(pseudonymFor(member, keyA)).toBe(pseudonym);
    expect(pseudonym).toMatch(/^m_[0-9a-f]{32}$/);
    expect(isMemberPseudonym(pseudonym)).toBe(true);
  });

  it('matches HMAC-SHA-256 truncated to 128 bits (a known vector for this key)', () => {
    // Computed once with: printf '11010519491231002X' | openssl dgst -sha256 -mac HMAC -macopt hexkey:a5a5…a5 (32 bytes)
    expect(pseudonymFor(member, keyA)).toBe('m_06d48bf00c73765a0ff584442db9bc59');
  });

  it('differs across keys and across members', () => {
    expect(pseudonymFor(member, keyA)).not.toBe(pseudonymFor(member, keyB));
    const other = validId(withCheck('41020219900307123'));
    expect(pseudonymFor(other, keyA)).not.toBe(pseudonymFor(member, keyA));
  });

  it('is the same for the lowercase and uppercase spelling once validated', () => {
    expect(pseudonymFor(validId('11010519491231002x'), keyA)).toBe(pseudonymFor(member, keyA));
  });

  it('property: never contains the ID or its birth date and serial', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 20000 }), (serial, day) => {
        const birth = new Date(Date.UTC(1950, 0, 1) + day * 86_400_000)
          .toISOString()
          .slice(0, 10)
          .replaceAll('-', '');
        const id = validId(withCheck(`410202${birth}${String(serial).padStart(3, '0')}`));
        const pseudonym = pseudonymFor(id, keyA);
        return !pseudonym.includes(id) && !pseudonym.includes(id.slice(6, 17)) && pseudonym.length === 34;
      }),
      { numRuns: 300 },
    );
  });
});

describe('loadPseudonymKey', () => {
  const hexKey = 'ab'.repeat(32);

  it('reads a hex key of 32 bytes', () => {
    expect(loadPseudonymKey({ HUB_PSEUDONYM_KEY: hexKey })).toEqual(Buffer.alloc(32, 0xab));
  });

  it('reads a base64 key, standard or URL-safe', () => {
    const bytes = Buffer.alloc(48, 0xfb);
    expect(loadPseudonymKey({ HUB_PSEUDONYM_KEY: bytes.toString('base64') })).toEqual(bytes);
    expect(loadPseudonymKey({ HUB_PSEUDONYM_KEY: bytes.toString('base64url') })).toEqual(bytes);
  });

  it('stops with one clear line when the key is missing outside tests', () => {
    expect(() => loadPseudonymKey({})).toThrow(ConfigError);
    expect(() => loadPseudonymKey({ NODE_ENV: 'production', HUB_PSEUDONYM_KEY: '  ' })).toThrow(
      'HUB_PSEUDONYM_KEY is not set: give a secret of at least 32 bytes as hex or base64 (e.g. openssl rand -hex 32)',
    );
  });

  it('stops when the key is shorter than 32 bytes, without echoing it', () => {
    const short = 'cd'.repeat(31);
    let message = '';
    try {
      loadPseudonymKey({ HUB_PSEUDONYM_KEY: short });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toBe(
      'HUB_PSEUDONYM_KEY is too short: 31 bytes, needs at least 32 (e.g. openssl rand -hex 32)',
    );
    expect(message).not.toContain(short);
    expect(message).not.toContain('\n');
  });

  it('stops when the key is neither hex nor base64', () => {
    expect(() => loadPseudonymKey({ HUB_PSEUDONYM_KEY: 'not a key!' })).toThrow(/neither hex nor base64/);
  });

  it('never switches to the public test key on NODE_ENV or VITEST: a test gives its key like anyone else', () => {
    expect(() => loadPseudonymKey({ NODE_ENV: 'test' })).toThrow(/HUB_PSEUDONYM_KEY is not set/);
    expect(() => loadPseudonymKey({ VITEST: 'true' })).toThrow(/HUB_PSEUDONYM_KEY is not set/);
    expect(loadPseudonymKey({ VITEST: 'true', HUB_PSEUDONYM_KEY: hexKey })).toEqual(Buffer.alloc(32, 0xab));
    expect(loadPseudonymKey({ HUB_PSEUDONYM_KEY: TEST_ONLY_PSEUDONYM_KEY.toString('hex') })).toEqual(
      TEST_ONLY_PSEUDONYM_KEY,
    );
    expect(TEST_ONLY_PSEUDONYM_KEY.length).toBeGreaterThanOrEqual(32);
    expect(TEST_ONLY_PSEUDONYM_KEY.toString('utf8')).toContain('TEST ONLY');
  });
});
