import { Decimal, type Decimal as DecimalType } from '../../../shared/money.js';
import { type LocalDate, localDate } from '../../../shared/policy/dates.js';
import type { PolicyParams, RegionPolicy } from '../../../shared/policy/params.js';
import { paramsOn, regionPolicy } from '../../../shared/policy/regions.js';

/** Test helpers: the shipped regions' parameters on a day, and money from text. */

export const KAIFENG = '410200';
export const DEHONG = '533100';

export function region(code: string): RegionPolicy {
  const found = regionPolicy(code);
  if (!found.ok) throw new Error(`test setup: ${found.error.code}`);
  return found.value;
}

export function paramsFor(code: string, date: string): PolicyParams {
  const params = paramsOn(region(code), localDate(date));
  if (!params.ok) throw new Error(`test setup: ${params.error.code} ${params.error.rule}`);
  return params.value;
}

export const yuan = (text: string): DecimalType => new Decimal(text);
export const day = (text: string): LocalDate => localDate(text);

/** A deep copy of a shipped region file as plain JSON, to mutate in loader tests. */
export function regionJson(code: string): Record<string, unknown> {
  const fileName = code === KAIFENG ? '410200-kaifeng.json' : '533100-dehong.json';
  return JSON.parse(JSON.stringify(REGION_FILES[fileName])) as Record<string, unknown>;
}

import kaifengFile from '../../../shared/policy/regions/410200-kaifeng.json' with { type: 'json' };
import dehongFile from '../../../shared/policy/regions/533100-dehong.json' with { type: 'json' };

const REGION_FILES: Record<string, unknown> = {
  '410200-kaifeng.json': kaifengFile,
  '533100-dehong.json': dehongFile,
};
