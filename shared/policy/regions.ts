import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, invalidInput, ok, type Result, refuse } from '../errors.js';
import { type Money, ZERO } from '../money.js';
import { compareDates, firstDayOfYear, type LocalDate, parseLocalDate } from './dates.js';
import {
  PARAM_NAMES,
  PARAM_SPECS,
  type ParamName,
  type ParamProvenance,
  type ParamValues,
  type ParamVersion,
  type PolicyParams,
  type RegionDocument,
  type RegionPolicy,
} from './params.js';

/**
 * Region policies are configuration: one JSON file per region in ./regions/, named "<code>-<name>.json".
 * A new region is a new file; this loader validates it once and every bad value stops start-up with one line.
 */

export const REGIONS_DIR = fileURLToPath(new URL('./regions/', import.meta.url));

const REGION_CODE = /^\d{6}$/;
const SOURCE = /^(illustrative|art\. \d+(–\d+)?(, art\. \d+(–\d+)?)*)$/;

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function requireString(raw: unknown, where: string): string {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new ConfigError(`${where}: expected a non-empty string`);
  return raw;
}

function requireDate(raw: unknown, where: string): LocalDate {
  const date = typeof raw === 'string' ? parseLocalDate(raw) : undefined;
  if (date === undefined)
    throw new ConfigError(`${where}: ${JSON.stringify(raw)} is not a date "YYYY-MM-DD"`);
  return date;
}

function parseVersions<K extends ParamName>(
  region: string,
  name: K,
  raw: unknown,
): readonly ParamVersion<ParamValues[K]>[] {
  const where = `region ${region}: parameter ${name}`;
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ConfigError(`${where}: expected a non-empty list of versions`);
  const versions: ParamVersion<ParamValues[K]>[] = [];
  for (const [index, item] of raw.entries()) {
    if (!isRecord(item)) throw new ConfigError(`${where}: version ${index} is not an object`);
    const effectiveFrom = requireDate(item.effectiveFrom, `${where} version ${index} effectiveFrom`);
    const at = `${where} version effectiveFrom ${effectiveFrom}`;
    if (!('value' in item)) throw new ConfigError(`${at}: value is missing`);
    const parsed = PARAM_SPECS[name].parse(item.value);
    if (!parsed.ok) throw new ConfigError(`${at}: ${parsed.problem}`);
    const source = item.source;
    if (typeof source !== 'string' || !SOURCE.test(source)) {
      throw new ConfigError(`${at}: source ${JSON.stringify(source)} is not "art. N" or "illustrative"`);
    }
    const note = item.note ?? '';
    if (typeof note !== 'string') throw new ConfigError(`${at}: note: expected a string`);
    const previous = versions.at(-1);
    // Versions must be in order and strictly after each other, so exactly one is in force on any day.
    if (previous !== undefined && compareDates(previous.effectiveFrom, effectiveFrom) >= 0) {
      const how =
        previous.effectiveFrom === effectiveFrom ? 'overlaps the version' : 'is not after the version';
      throw new ConfigError(`${at}: ${how} effectiveFrom ${previous.effectiveFrom}`);
    }
    versions.push(Object.freeze({ effectiveFrom, value: parsed.value, source, note }));
  }
  return Object.freeze(versions);
}

/** Parses and checks one region file; throws ConfigError naming region, parameter and date. */
export function parseRegionFile(fileName: string, raw: unknown): RegionPolicy {
  if (!isRecord(raw)) throw new ConfigError(`${fileName}: expected a JSON object`);
  const codeRaw = raw.region;
  if (typeof codeRaw !== 'string' || !REGION_CODE.test(codeRaw)) {
    throw new ConfigError(`${fileName}: region ${JSON.stringify(codeRaw)} is not a 6-digit region code`);
  }
  const code = codeRaw;
  if (!fileName.startsWith(`${code}-`)) {
    throw new ConfigError(`${fileName}: region ${code}: file name must start with "${code}-"`);
  }
  const where = `region ${code}`;
  const nameRaw = raw.name;
  if (!isRecord(nameRaw)) throw new ConfigError(`${where}: name: expected { zh, en }`);
  const name = Object.freeze({
    zh: requireString(nameRaw.zh, `${where}: name.zh`),
    en: requireString(nameRaw.en, `${where}: name.en`),
  });
  const docRaw = raw.document;
  if (!isRecord(docRaw))
    throw new ConfigError(`${where}: document: expected { title, number, issuedOn, effectiveFrom, file }`);
  const document: RegionDocument = Object.freeze({
    title: requireString(docRaw.title, `${where}: document.title`),
    number: requireString(docRaw.number, `${where}: document.number`),
    issuedOn: requireDate(docRaw.issuedOn, `${where}: document.issuedOn`),
    effectiveFrom: requireDate(docRaw.effectiveFrom, `${where}: document.effectiveFrom`),
    file: requireString(docRaw.file, `${where}: document.file`),
  });
  const paramsRaw = raw.parameters;
  if (!isRecord(paramsRaw)) throw new ConfigError(`${where}: parameters: expected an object`);
  for (const key of Object.keys(paramsRaw)) {
    if (!(PARAM_NAMES as readonly string[]).includes(key)) {
      throw new ConfigError(
        `${where}: parameter ${key}: unknown parameter (known: ${PARAM_NAMES.join(', ')})`,
      );
    }
  }
  const parameters = {} as { [K in ParamName]: readonly ParamVersion<ParamValues[K]>[] };
  for (const param of PARAM_NAMES) {
    if (!(param in paramsRaw)) throw new ConfigError(`${where}: parameter ${param}: missing`);
    const versions = parseVersions(code, param, paramsRaw[param]);
    const first = versions[0];
    // Every parameter must be in force from the day the document is, so no day lacks a value.
    if (first !== undefined && first.effectiveFrom > document.effectiveFrom) {
      throw new ConfigError(
        `${where}: parameter ${param} version effectiveFrom ${first.effectiveFrom}: starts after the document's effective date ${document.effectiveFrom}`,
      );
    }
    Object.assign(parameters, { [param]: versions });
  }
  const policy: RegionPolicy = Object.freeze({ code, name, document, parameters: Object.freeze(parameters) });
  checkEveryChangeDate(policy);
  return policy;
}

/** Cross-parameter rules are checked on every date any parameter changes, so no later day can be inconsistent. */
function checkEveryChangeDate(policy: RegionPolicy): void {
  const dates = new Set<LocalDate>([policy.document.effectiveFrom]);
  for (const param of PARAM_NAMES) {
    for (const version of policy.parameters[param]) {
      if (version.effectiveFrom >= policy.document.effectiveFrom) dates.add(version.effectiveFrom);
    }
  }
  for (const date of dates) resolve(policy, date);
}

function versionOn<T>(versions: readonly ParamVersion<T>[], date: LocalDate): ParamVersion<T> | undefined {
  let found: ParamVersion<T> | undefined;
  for (const version of versions) {
    if (version.effectiveFrom <= date) found = version;
    else break;
  }
  return found;
}

function resolve(policy: RegionPolicy, date: LocalDate): PolicyParams {
  const values = {} as { -readonly [K in ParamName]: ParamValues[K] };
  const provenance = {} as { -readonly [K in ParamName]: ParamProvenance };
  for (const param of PARAM_NAMES) {
    const version = versionOn<ParamValues[typeof param]>(policy.parameters[param], date);
    if (version === undefined)
      throw new ConfigError(`region ${policy.code}: parameter ${param}: no version in force on ${date}`);
    Object.assign(values, { [param]: version.value });
    provenance[param] = Object.freeze({
      effectiveFrom: version.effectiveFrom,
      source: version.source,
      note: version.note,
    });
  }
  const where = `region ${policy.code}: on ${date}`;
  if (values.referralPenalty.gt(values.supplementRatio)) {
    throw new ConfigError(
      `${where}: parameter referralPenalty version effectiveFrom ${provenance.referralPenalty.effectiveFrom}: value ${values.referralPenalty} exceeds supplementRatio ${values.supplementRatio}`,
    );
  }
  const supplementCap = supplementCapOf(policy.code, date, values, provenance);
  return Object.freeze({
    ...values,
    region: Object.freeze({ code: policy.code, name: policy.name, document: policy.document }),
    date,
    supplementCap,
    hospitalCode: new RegExp(values.hospitalCodePattern),
    provenance: Object.freeze(provenance),
  });
}

function supplementCapOf(
  code: string,
  date: LocalDate,
  values: ParamValues,
  provenance: { readonly [K in ParamName]: ParamProvenance },
): Money | null {
  const cap = values.annualCap;
  switch (cap.kind) {
    case 'none':
      return null;
    case 'combined-wage-multiple': {
      // Kaifeng art. 14: basic + supplement together are capped at about 6 × the city's average wage.
      const wage = values.cityAverageWage;
      if (wage === null) {
        throw new ConfigError(
          `region ${code}: parameter cityAverageWage version effectiveFrom ${provenance.cityAverageWage.effectiveFrom}: value null, but annualCap on ${date} needs a wage`,
        );
      }
      const supplementCap = cap.multiple.times(wage).minus(values.basicFundCap);
      if (supplementCap.lt(ZERO)) {
        throw new ConfigError(
          `region ${code}: parameter annualCap on ${date}: ${cap.multiple} × cityAverageWage ${wage} is below basicFundCap ${values.basicFundCap}`,
        );
      }
      return supplementCap;
    }
    default: {
      const unknown: never = cap;
      throw new ConfigError(`region ${code}: unknown annual cap ${JSON.stringify(unknown)}`);
    }
  }
}

/** Reads and validates every region file in the folder. Throws ConfigError on the first bad value. */
export function loadRegionsFrom(dir: string): ReadonlyMap<string, RegionPolicy> {
  const regions = new Map<string, RegionPolicy>();
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      throw new ConfigError(
        `${file}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const policy = parseRegionFile(file, raw);
    const clash = regions.get(policy.code);
    if (clash !== undefined) throw new ConfigError(`${file}: region ${policy.code}: defined twice`);
    regions.set(policy.code, policy);
  }
  if (regions.size === 0) throw new ConfigError(`${dir}: no region files`);
  return regions;
}

let loaded: ReadonlyMap<string, RegionPolicy> | undefined;

/**
 * The shipped regions, read and checked once per process: a service does it when it starts (startService),
 * before it connects; every later call, decide's included, is the cached map.
 */
export function loadRegions(): ReadonlyMap<string, RegionPolicy> {
  loaded ??= loadRegionsFrom(REGIONS_DIR);
  return loaded;
}

export function regionPolicy(code: string): Result<RegionPolicy> {
  const policy = loadRegions().get(code);
  if (policy === undefined) {
    const known = [...loadRegions().keys()].join(', ');
    return refuse(
      invalidInput('UNKNOWN_REGION', 'region', `no policy for this region (known: ${known})`, code),
    );
  }
  return ok(policy);
}

const resolvedCache = new WeakMap<RegionPolicy, Map<LocalDate, PolicyParams>>();

/** The parameters in force in the region on that day; refused before the region's document takes effect. */
export function paramsOn(region: RegionPolicy, date: LocalDate, field = 'date'): Result<PolicyParams> {
  if (date < region.document.effectiveFrom) {
    return refuse(
      invalidInput(
        'NO_POLICY_IN_FORCE',
        field,
        `${region.name.en} ${region.document.number} takes effect on ${region.document.effectiveFrom}`,
        date,
      ),
    );
  }
  let cache = resolvedCache.get(region);
  if (cache === undefined) {
    cache = new Map();
    resolvedCache.set(region, cache);
  }
  let params = cache.get(date);
  if (params === undefined) {
    params = resolve(region, date);
    cache.set(date, params);
  }
  return ok(params);
}

/** Region code and date in one step, as services and the CLI hold them. */
export function regionParamsOn(code: string, date: LocalDate, field = 'date'): Result<PolicyParams> {
  const region = regionPolicy(code);
  return region.ok ? paramsOn(region.value, date, field) : region;
}

/**
 * The parameters a cover year is judged by: those in force on its first day, so every premium of a
 * member-year is judged alike, including those collected the year before (Kaifeng art. 8 collects in
 * July–December for the next year; Dehong art. 11: the insurance year is the calendar year).
 */
export function coverYearParams(code: string, coverYear: number, field = 'coverYear'): Result<PolicyParams> {
  if (!Number.isInteger(coverYear) || coverYear < 1900 || coverYear > 9999) {
    return refuse(invalidInput('COVER_YEAR', field, 'a calendar year such as 2025', String(coverYear)));
  }
  return regionParamsOn(code, firstDayOfYear(coverYear), field);
}
