import { type ParamName, type PolicyParams, type ShownValue, showParam } from './params.js';

/** The rules a decision can cite; one name per rule so a trail can be searched and counted. */
export type RuleName =
  | 'policy-in-force'
  | 'premium-window'
  | 'paid-in-full-in-window'
  | 'new-enrolee-exception'
  | 'not-paid-in-full'
  | 'covered'
  | 'medical-type'
  | 'basic-cap-reached'
  | 'supplement-ratio'
  | 'referral-penalty'
  | 'fen-rounding'
  | 'annual-cap'
  | 'reversal'
  | 'manual-claim-sla'
  | 'manual-claim-deadline'
  | 'operating-cost-ceiling'
  | 'profit-ceiling';

/** One step of a decision: which rule, which article, which parameter values, and what it concluded. */
export interface TrailEntry {
  readonly rule: RuleName;
  /** e.g. "Dehong art. 10, art. 12" or "Kaifeng illustrative" when the document does not give the value. */
  readonly article: string;
  readonly params: { readonly [name: string]: ShownValue };
  readonly detail: string;
}

export type Trail = readonly TrailEntry[];

/**
 * The article(s) behind the named parameters, prefixed by the region so a trail reads on its own;
 * `basis` names a rule of the hub's own brief (e.g. fen rounding) that no region document states.
 */
export function cite(params: PolicyParams, names: readonly ParamName[], basis?: string): string {
  const sources: string[] = [];
  for (const name of names) {
    const source = params.provenance[name].source;
    if (!sources.includes(source)) sources.push(source);
  }
  const region = sources.length === 0 ? [] : [`${params.region.name.en} ${sources.join(', ')}`];
  return [...region, ...(basis === undefined ? [] : [basis])].join('; ');
}

/** A trail entry citing the given parameters, with their values as in force that day. */
export function entry(
  params: PolicyParams,
  rule: RuleName,
  names: readonly ParamName[],
  detail: string,
  extra: { readonly [name: string]: ShownValue } = {},
  basis?: string,
): TrailEntry {
  const shown: { [name: string]: ShownValue } = {};
  for (const name of names) shown[name] = showParam(params, name);
  return Object.freeze({
    rule,
    article: cite(params, names, basis),
    params: Object.freeze({ ...shown, ...extra }),
    detail,
  });
}
