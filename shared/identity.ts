/**
 * National ID numbers (身份证号) and the pseudonyms that replace them: an ID is
 * checked once on an input topic, then only its keyed pseudonym travels further. Pure functions:
 * no I/O, the clock and the environment are passed in.
 */
import { createHmac } from 'node:crypto';
import { ConfigError, invalidInput, ok, type Result, refuse } from './errors.js';
import type { LocalDate } from './records.js';

/** A validated, normalised 18-character resident ID (check character upper-case X). Personal data. */
export type NationalId = string & { readonly __brand: 'NationalId' };

/** "m_" + 32 lowercase hex characters: the first 128 bits of HMAC-SHA-256(key, national ID). */
export type MemberPseudonym = `m_${string}`;

/** The secret HMAC key behind member pseudonyms. */
export type PseudonymKey = Buffer & { readonly __brand: 'PseudonymKey' };

export const PSEUDONYM_PREFIX = 'm_';
/** Hex characters after the prefix (128 bits). */
export const PSEUDONYM_HEX_LENGTH = 32;
export const PSEUDONYM_KEY_ENV = 'HUB_PSEUDONYM_KEY';
export const PSEUDONYM_KEY_MIN_BYTES = 32;

/** The key the tests give as HUB_PSEUDONYM_KEY (vitest.config.ts); public, so it protects nothing. */
export const TEST_ONLY_PSEUDONYM_KEY = Buffer.from(
  'medfund-hub TEST ONLY pseudonym key - never use in production',
  'utf8',
) as PseudonymKey;

// GB 11643-1999: ISO 7064 MOD 11-2 weights of the first 17 digits, and check characters by remainder.
const CHECK_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';
const ID_SHAPE = /^\d{17}[\dXx]$/;
// GB 11643-1999: the address code is a GB/T 2260 division code; provinces start with 1–8 (9 is unused).
const AREA_CODE_SHAPE = /^[1-8]\d{5}/;
const EARLIEST_BIRTH_DATE: LocalDate = '1900-01-01';

/** Shows at most the first and last four characters of an 18-character ID; other lengths only as a length. */
export function maskNationalId(text: string): string {
  if (text.length !== 18) return `[${text.length} characters]`;
  return `${text.slice(0, 4)}${'*'.repeat(10)}${text.slice(14)}`;
}

/** GB 11643-1999: ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function nationalIdCheckCharacter(first17Digits: string): string {
  if (!/^\d{17}$/.test(first17Digits)) throw new Error('nationalIdCheckCharacter expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17Digits[i]) * (CHECK_WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS.charAt(sum % 11);
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export interface NationalIdRules {
  /** Today's date "YYYY-MM-DD" in China: a birth date after it is refused. */
  today: LocalDate;
  /** Earliest accepted birth date; 1900-01-01 unless a caller has a reason to go further back. */
  earliestBirthDate?: LocalDate;
}

/**
 * Validates an 18-character resident ID (GB 11643-1999) and returns it normalised (check character
 * X upper-case). A refusal names the field and the rule; its value is masked, never the full ID.
 */
export function validateNationalId(text: string, field: string, rules: NationalIdRules): Result<NationalId> {
  const masked = maskNationalId(text);
  if (!ID_SHAPE.test(text)) {
    return refuse(
      invalidInput(
        'ID_FORMAT',
        field,
        'GB 11643-1999: 18 characters, 17 digits then a check character 0-9 or X',
        masked,
      ),
    );
  }
  if (!AREA_CODE_SHAPE.test(text)) {
    return refuse(
      invalidInput(
        'ID_AREA_CODE',
        field,
        'GB 11643-1999: address code must start with 1-8 (GB/T 2260)',
        masked,
      ),
    );
  }
  // GB 11643-1999: digits 7–14 are the birth date YYYYMMDD.
  const year = Number(text.slice(6, 10));
  const month = Number(text.slice(10, 12));
  const day = Number(text.slice(12, 14));
  const birthDate = `${text.slice(6, 10)}-${text.slice(10, 12)}-${text.slice(12, 14)}`;
  const earliest = rules.earliestBirthDate ?? EARLIEST_BIRTH_DATE;
  if (!isCalendarDate(year, month, day)) {
    return refuse(
      invalidInput('ID_BIRTH_DATE', field, 'GB 11643-1999: digits 7-14 must be a real date', masked),
    );
  }
  if (birthDate < earliest || birthDate > rules.today) {
    return refuse(
      invalidInput(
        'ID_BIRTH_DATE',
        field,
        `GB 11643-1999: birth date must lie between ${earliest} and today (${rules.today})`,
        masked,
      ),
    );
  }
  const normalised = text.toUpperCase();
  if (nationalIdCheckCharacter(normalised.slice(0, 17)) !== normalised.charAt(17)) {
    return refuse(
      invalidInput(
        'ID_CHECKSUM',
        field,
        'GB 11643-1999: ISO 7064 MOD 11-2 check character does not match',
        masked,
      ),
    );
  }
  return ok(normalised as NationalId);
}

/** The member's pseudonym: deterministic per key, one-way without the key (HMAC-SHA-256, truncated). */
export function pseudonymFor(nationalId: NationalId, key: PseudonymKey): MemberPseudonym {
  // RFC 2104 §5: truncating an HMAC to half its output keeps it secure; 128 bits keeps Redis keys short.
  const digest = createHmac('sha256', key).update(nationalId, 'utf8').digest('hex');
  return `${PSEUDONYM_PREFIX}${digest.slice(0, PSEUDONYM_HEX_LENGTH)}`;
}

/** True for text shaped like a pseudonym ("m_" + 32 lowercase hex). */
export function isMemberPseudonym(text: string): text is MemberPseudonym {
  return /^m_[0-9a-f]{32}$/.test(text);
}

/** Decodes a key written as hex (only hex digits, even length) or else as base64 / base64url. */
function decodeKey(text: string): Buffer | undefined {
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  return undefined;
}

/**
 * Reads HUB_PSEUDONYM_KEY (hex or base64, ≥ 32 bytes). Missing or short stops the process with a
 * ConfigError of one line, whatever NODE_ENV says: a test gives its key like any other caller, so
 * no environment flag can switch a running hub to a public key. The key never appears in a message.
 */
export function loadPseudonymKey(env: Readonly<Record<string, string | undefined>>): PseudonymKey {
  const text = env[PSEUDONYM_KEY_ENV]?.trim();
  if (text === undefined || text === '') {
    throw new ConfigError(
      `${PSEUDONYM_KEY_ENV} is not set: give a secret of at least ${PSEUDONYM_KEY_MIN_BYTES} bytes as hex or base64 (e.g. openssl rand -hex 32)`,
    );
  }
  const key = decodeKey(text);
  if (key === undefined) {
    throw new ConfigError(`${PSEUDONYM_KEY_ENV} is neither hex nor base64 (${text.length} characters)`);
  }
  if (key.length < PSEUDONYM_KEY_MIN_BYTES) {
    throw new ConfigError(
      `${PSEUDONYM_KEY_ENV} is too short: ${key.length} bytes, needs at least ${PSEUDONYM_KEY_MIN_BYTES} (e.g. openssl rand -hex 32)`,
    );
  }
  return key as PseudonymKey;
}
