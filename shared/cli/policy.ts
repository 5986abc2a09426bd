import { ConfigError, type InvalidInput, type Result } from '../errors.js';
import { formatMoney, type Money } from '../money.js';
import { localDate } from '../policy/dates.js';
import { decideEligibility } from '../policy/eligibility.js';
import { type JsonValue, parseJsonExact } from '../policy/exactJson.js';
import {
  describeRefusal,
  type Reader,
  readEligibilityRequest,
  readParamsRequest,
  readSlaRequest,
  readSupplementRequest,
} from '../policy/input.js';
import { insuranceYearOf } from '../policy/insuranceYear.js';
import { formatRatio, PARAM_NAMES, type PolicyParams, type ShownValue, showParam } from '../policy/params.js';
import { regionParamsOn } from '../policy/regions.js';
import { decideSupplement } from '../policy/supplement.js';
import { manualClaimSla } from '../policy/workingDays.js';

/**
 * `hub policy <subcommand>`: one JSON document on stdin, one on stdout, so a person at a bureau can check a
 * decision by hand with the same engine the services run. Bad input: exit 2 and one line naming the field.
 */

// Every value is already JSON-ready (amounts as text, never a float), so the output is stringified as is.
type Output = Readonly<Record<string, unknown>>;
type Outcome = { kind: 'output'; output: Output } | { kind: 'refused'; error: InvalidInput };

interface Subcommand {
  readonly summary: string;
  readonly run: (input: JsonValue) => Outcome;
}

const refused = (error: InvalidInput): Outcome => ({ kind: 'refused', error });
const money = (amount: Money | null): string | null => (amount === null ? null : formatMoney(amount));

/** Reads the request, then resolves the region's parameters for the given day, or says which field is wrong. */
function withParams<T>(
  input: JsonValue,
  reader: Reader<T>,
  dayOf: (request: T) => { date: string; field: string; region: string },
  decide: (request: T, params: PolicyParams) => Outcome,
): Outcome {
  const request = reader(input, '');
  if (!request.ok) return refused(request.error);
  const { date, field, region } = dayOf(request.value);
  const params: Result<PolicyParams> = regionParamsOn(region, localDate(date), field);
  return params.ok ? decide(request.value, params.value) : refused(params.error);
}

const subcommands: Record<string, Subcommand> = {
  supplement: {
    summary: 'what the supplement owes for one settlement (design.md §6)',
    run: (input) =>
      withParams(
        input,
        readSupplementRequest,
        (r) => ({ date: r.serviceDate, field: 'serviceDate', region: r.region }),
        (r, params) => {
          const decision = decideSupplement({ params, eligible: r.eligible, ytd: r.ytd, claim: r.claim });
          return {
            kind: 'output',
            output: {
              region: params.region.code,
              serviceDate: r.serviceDate,
              insuranceYear: insuranceYearOf(params, r.serviceDate),
              due: formatMoney(decision.due),
              ratio: formatRatio(decision.ratio),
              capRemaining: money(decision.capRemaining),
              flags: decision.flags,
              ytdAfter: {
                basicFundPaid: formatMoney(decision.ytdAfter.basicFundPaid),
                supplementPaid: formatMoney(decision.ytdAfter.supplementPaid),
              },
              trail: decision.trail,
            },
          };
        },
      ),
  },
  eligibility: {
    summary: 'is a member covered for a year, from the premium payments',
    run: (input) =>
      withParams(
        input,
        readEligibilityRequest,
        (r) => ({ date: `${r.year}-01-01`, field: 'year', region: r.region }),
        (r, params) => {
          const decision = decideEligibility({
            params,
            year: r.year,
            enrolledOn: r.enrolledOn,
            payments: r.payments,
          });
          return {
            kind: 'output',
            output: {
              covered: decision.covered,
              reason: decision.reason,
              window: { ...decision.window },
              premiumDue: formatMoney(decision.premiumDue),
              paidInWindow: formatMoney(decision.paidInWindow),
              paidTotal: formatMoney(decision.paidTotal),
              trail: decision.trail,
            },
          };
        },
      ),
  },
  sla: {
    summary: 'working days and deadline of a manual claim',
    run: (input) =>
      withParams(
        input,
        readSlaRequest,
        (r) => ({ date: r.receivedOn, field: 'receivedOn', region: r.region }),
        (r, params) => {
          const decision = manualClaimSla({
            params,
            receivedOn: r.receivedOn,
            paidOn: r.paidOn,
            serviceYear: r.serviceYear,
          });
          if (!decision.ok) return refused(decision.error);
          const d = decision.value;
          return {
            kind: 'output',
            output: {
              workingDays: d.workingDays,
              slaWorkingDays: params.manualClaim.workingDays,
              withinSla: d.withinSla,
              deadline: d.deadline,
              withinDeadline: d.withinDeadline,
              trail: d.trail,
            },
          };
        },
      ),
  },
  params: {
    summary: 'the parameters in force in a region on a day',
    run: (input) =>
      withParams(
        input,
        readParamsRequest,
        (r) => ({ date: r.date, field: 'date', region: r.region }),
        (_r, params) => {
          const all: { [name: string]: ShownValue } = {};
          const sources: { [name: string]: ShownValue } = {};
          for (const name of PARAM_NAMES) {
            all[name] = showParam(params, name);
            sources[name] = { ...params.provenance[name] };
          }
          return {
            kind: 'output',
            output: {
              region: params.region.code,
              name: { ...params.region.name },
              document: { ...params.region.document },
              date: params.date,
              basicCap: formatMoney(params.basicFundCap),
              ratio: formatRatio(params.supplementRatio),
              referralPenalty: formatRatio(params.referralPenalty),
              supplementCap: money(params.supplementCap),
              premiumDue: formatMoney(params.premiumDue),
              parameters: all,
              sources,
            },
          };
        },
      ),
  },
};

function usage(): string {
  const lines = Object.entries(subcommands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: hub policy <${Object.keys(subcommands).join('|')}> < request.json\n\n${lines.join('\n')}\n`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runPolicy(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  const subcommand = name === undefined ? undefined : subcommands[name];
  if (subcommand === undefined || rest.length > 0) {
    const why =
      name === undefined
        ? 'missing subcommand'
        : subcommand
          ? `unexpected argument '${rest[0]}'`
          : `unknown subcommand '${name}'`;
    process.stderr.write(`hub policy: ${why}\n\n${usage()}`);
    return 2;
  }
  const prefix = `hub policy ${name}`;
  try {
    const parsed = parseJsonExact(await readStdin());
    const outcome = parsed.ok ? subcommand.run(parsed.value) : refused(parsed.error);
    switch (outcome.kind) {
      case 'output':
        process.stdout.write(`${JSON.stringify(outcome.output, null, 2)}\n`);
        return 0;
      case 'refused':
        process.stderr.write(`${prefix}: ${describeRefusal(outcome.error)}\n`);
        return 2;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    // Configuration problems (a bad region file, a year without holiday data) are not the caller's input: exit 1.
    if (error instanceof ConfigError) {
      process.stderr.write(`${prefix}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
