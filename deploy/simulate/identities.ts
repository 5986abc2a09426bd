/**
 * Synthetic identifiers that pass the same checks real ones do: resident IDs (GB 11643-1999), unified
 * social credit codes (GB 32100-2015), designated-institution codes matching the region's pattern.
 */
import { nationalIdCheckCharacter } from '../../shared/identity.js';
import type { LocalDate } from '../../shared/policy/dates.js';
import type { Rng } from './random.js';

/**
 * County-level division codes (GB/T 2260) used for people and institutions of a region. A region not
 * listed gets <prefecture>01…09, which is enough for a third region added by configuration.
 */
const DISTRICTS: Readonly<Record<string, readonly string[]>> = {
  // 开封: 龙亭, 顺河, 鼓楼, 禹王台, 祥符, 杞县, 通许, 尉氏, 兰考
  '410200': ['410202', '410203', '410204', '410205', '410212', '410221', '410222', '410223', '410225'],
  // 德宏: 瑞丽, 芒市, 梁河, 盈江, 陇川
  '533100': ['533102', '533103', '533122', '533123', '533124'],
};

/** The region's district codes, the urban ones first (large hospitals are there). */
export function districtsOf(region: string): readonly string[] {
  const known = DISTRICTS[region];
  if (known !== undefined) return known;
  const prefecture = region.slice(0, 4);
  return ['01', '02', '03', '04', '05', '06', '07', '08', '09'].map((d) => `${prefecture}${d}`);
}

/** 18-character resident ID: area code, birth date YYYYMMDD, 3-digit sequence, MOD 11-2 check character. */
export function nationalIdOf(area: string, birthDate: LocalDate, sequence: number): string {
  const first17 = `${area}${birthDate.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
  return `${first17}${nationalIdCheckCharacter(first17)}`;
}

/** The same ID with a wrong check character: a typo the tax system let through. */
export function withWrongCheckCharacter(nationalId: string): string {
  const right = nationalId.charAt(17);
  const candidates = '0123456789X'.split('').filter((c) => c !== right);
  // Deterministic: the next character after the right one.
  const wrong = candidates[('0123456789X'.indexOf(right) + 1) % candidates.length] as string;
  return `${nationalId.slice(0, 17)}${wrong}`;
}

// GB 32100-2015: the 31 characters of a unified social credit code and the weights of its first 17.
const USCC_CHARACTERS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
// GB 11714-1997: weights of the 8-character organisation code body.
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

function orgCodeCheck(body: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i += 1) sum += USCC_CHARACTERS.indexOf(body.charAt(i)) * (ORG_WEIGHTS[i] ?? 0);
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** 统一社会信用代码 of an employer: "91" (enterprise) + area + organisation code + check character. */
export function unifiedSocialCreditCode(rng: Rng, area: string, registration = '91'): string {
  let body = '';
  for (let i = 0; i < 8; i += 1) body += USCC_CHARACTERS.charAt(rng.int(0, 30));
  const first17 = `${registration}${area}${body}${orgCodeCheck(body)}`;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += USCC_CHARACTERS.indexOf(first17.charAt(i)) * (USCC_WEIGHTS[i] ?? 0);
  const check = (31 - (sum % 31)) % 31;
  return `${first17}${USCC_CHARACTERS.charAt(check)}`;
}

/** fixmedins_code as the region files describe it: "H" + 6-digit division code + 5-digit serial. */
export function institutionCode(area: string, serial: number): string {
  return `H${area}${String(serial).padStart(5, '0')}`;
}

/**
 * A division code of the same province outside the region: the provincial capital's urban district
 * (Zhengzhou 410102 for Kaifeng, Kunming 530102 for Dehong), or a neighbour when the region is the capital.
 */
export function outOfAreaDistrict(region: string): string {
  const province = region.slice(0, 2);
  const capital = `${province}01`;
  return region.startsWith(capital) ? `${province}0302` : `${capital}02`;
}
