import type { Command } from 'commander';
import type { InvalidInput, Result } from '../../shared/errors.js';
import { formatMoney, type Money } from '../../shared/money.js';
import { firstDayOfYear, localDate } from '../../shared/policy/dates.js';
import { decideEligibility } from '../../shared/policy/eligibility.js';
import { type JsonValue, parseJsonExact } from '../../shared/policy/exactJson.js';
import {
  describeRefusal,
  type Reader,
  readParamsRequest,
  readSlaRequest,
} from '../../shared/policy/input.js';
import { insuranceYearOf } from '../../shared/policy/insuranceYear.js';
import {
  formatRatio,
  PARAM_NAMES,
  type PolicyParams,
  type ShownValue,
  showParam,
} from '../../shared/policy/params.js';
import { regionParamsOn } from '../../shared/policy/regions.js';
import { decideSupplement } from '../../shared/policy/supplement.js';
import { manualClaimSla } from '../../shared/policy/workingDays.js';
import { EXIT, exitWith } from './options.js';
import { readEligibilityInput, readSupplementInput } from './policy-requests.js';

/**
 * `hub policy <subcommand>`: one JSON document on stdin, one on stdout, so a person at a bureau can check a
 * decision by hand with the same engine the services run. Bad input (including a year without holiday
 * data, which the request asks about): exit 2 and one line naming the field. A broken region file: exit 1.
 */

// Every value is already JSON-ready (amounts as text, never a float), so the output is stringified as is.
type Output = Readonly<Record<string, unknown>>;
type Outcome = { kind: 'output'; output: Output } | { kind: 'refused'; error: InvalidInput };

interface Subcommand {
  readonly summary: string;
  /** A request to show in --help. */
  readonly example: string;
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
    summary: 'what the supplement owes for one settlement: cap reached, ratio, referral penalty, annual cap',
    example:
      '{"region":"533100","serviceDate":"2025-05-12","eligible":true,"ytd":{"basicFundPaid":"140000.00","supplementPaid":"0.00"},"claim":{"inScopeAmount":"40000.00","basicFundPaid":"10000.00","overCapAmount":"20000.00","outOfArea":true,"referred":false,"medicalType":"INPATIENT"}}',
    run: (input) =>
      withParams(
        input,
        readSupplementInput,
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
    example:
      '{"region":"410200","year":2025,"enrolledOn":"2025-03-15","payments":[{"amount":"120.00","paidOn":"2025-03-20"}]}',
    run: (input) =>
      withParams(
        input,
        readEligibilityInput,
        (r) => ({ date: firstDayOfYear(r.year), field: 'year', region: r.region }),
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
    summary:
      "working days and deadline of a manual claim, by the region's manualClaim rule (the trail cites its article)",
    example: '{"region":"533100","receivedOn":"2025-02-01","paidOn":"2025-03-06","serviceYear":2024}',
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
    example: '{"region":"533100","date":"2025-06-01"}',
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const REQUEST_HELP = `
Amounts are JSON strings ("1234.50", at most 2 decimals): a JSON number is refused, since most tools
turn it into a float. medicalType is a word (inpatient, special-outpatient, ...) or the records' own
enum name (INPATIENT, SPECIAL_OUTPATIENT). Exit 0 with the decision on stdout; exit 2 with one line
naming the field when the request is wrong; exit 1 when a region file is broken.`;

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('check a policy decision by hand: one JSON request on stdin, one JSON answer on stdout')
    .addHelpText('after', REQUEST_HELP);
  for (const [name, subcommand] of Object.entries(subcommands)) {
    policy
      .command(name)
      .description(subcommand.summary)
      .addHelpText(
        'after',
        `\nExample:\n  echo '${subcommand.example}' | npx hub policy ${name}\n${REQUEST_HELP}`,
      )
      .action(
        exitWith(async () => {
          const answer = policyAnswer(name, await readStdin());
          process.stdout.write(answer.stdout);
          process.stderr.write(answer.stderr);
          return answer.exitCode;
        }),
      );
  }
}

/** What `hub policy <name>` prints for a request, and its exit code. */
export interface PolicyAnswer {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Decides one request text; a broken region file throws ConfigError, which the entry point tells in one
 * line with exit 1.
 */
export function policyAnswer(name: string, text: string): PolicyAnswer {
  const subcommand = subcommands[name];
  if (subcommand === undefined) throw new Error(`no policy subcommand ${name}`);
  const parsed = parseJsonExact(text);
  const outcome = parsed.ok ? subcommand.run(parsed.value) : refused(parsed.error);
  switch (outcome.kind) {
    case 'output':
      return { exitCode: EXIT.done, stdout: `${JSON.stringify(outcome.output, null, 2)}\n`, stderr: '' };
    case 'refused':
      return {
        exitCode: EXIT.usage,
        stdout: '',
        stderr: `hub policy ${name}: ${describeRefusal(outcome.error)}\n`,
      };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
}
