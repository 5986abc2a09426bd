import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { namespaceArgument } from '../../services/hub-cli/namespace-argument.js';
import { policyAnswer } from '../../services/hub-cli/policy.js';
import { buildProgram, runHub } from '../../services/hub-cli/program.js';
import { hubConfig } from '../../shared/config.js';

/**
 * The `hub` command line: parsed in this process (commander writes to the spied stdout and stderr), and a
 * few runs of the real bin for what only its entry point does (the config from --namespace or HUB_NAMESPACE).
 */

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
});
afterEach(() => vi.restoreAllMocks());

// What the entry point builds when neither --namespace nor HUB_NAMESPACE is given.
const CONFIG = hubConfig();

async function hub(...argv: string[]): Promise<Run> {
  const code = await runHub(argv, CONFIG);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Every command path of the tree, e.g. "disclosure verify" (commander's own "help" left out). */
function paths(command: Command, prefix: string[] = []): string[] {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [[...prefix, c.name()].join(' '), ...paths(c, [...prefix, c.name()])]);
}

const EVERY_COMMAND = [
  'policy',
  'policy supplement',
  'policy eligibility',
  'policy sla',
  'policy params',
  'topics',
  'topics create',
  'topics list',
  'simulate',
  'disclosure',
  'disclosure verify',
  'disclosure publish',
  'disclosure show',
  'disclosure keygen',
  'reconcile',
  'reconcile summary',
  'status',
  'dead-letters',
  'dead-letters list',
  'dead-letters redrive',
  'rebuild',
  'acl',
  'acl apply',
  'acl list',
];

describe('hub: help and exit codes', () => {
  it('has exactly the commands the README lists', () => {
    expect(paths(buildProgram(CONFIG))).toEqual(EVERY_COMMAND);
  });

  it.each(['', ...EVERY_COMMAND])('hub %s --help: exit 0, usage on stdout, nothing run', async (path) => {
    const run = await hub(...path.split(' ').filter(Boolean), '--help');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(`^Usage: hub${path === '' ? '' : ` ${path}`} \\[options\\]`));
    // --namespace is on every command, shown with it.
    expect(run.stdout).toContain('--namespace <name>');
  });

  it('hub --help names HUB_NAMESPACE beside --namespace and the exit codes', async () => {
    const { stdout } = await hub('--help');
    expect(stdout).toContain('HUB_NAMESPACE        the prefix of every topic, consumer group and Redis key');
    expect(stdout).toContain('--namespace NAME on any command sets it for that command');
    expect(stdout).toMatch(/Exit codes:\n {2}0 {2}done\n {2}1 {2}a finding .*\n.*\n {2}2 {2}usage/);
  });

  it.each([
    { argv: [], path: 'hub' },
    { argv: ['topics'], path: 'hub topics' },
    { argv: ['dead-letters'], path: 'hub dead-letters' },
  ])('$path without a command: exit 2, the help on stderr', async ({ argv, path }) => {
    const run = await hub(...argv);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^Usage: ${path} \\[options\\] \\[command\\]`));
  });
});

describe('hub: every refusal names what is wrong, exit 2', () => {
  it.each([
    { argv: ['nosuch'], stderr: "hub: unknown command 'nosuch'\n(see hub --help)\n" },
    { argv: ['topics', 'nosuch'], stderr: "hub topics: unknown command 'nosuch'\n(see hub topics --help)\n" },
    {
      argv: ['policy', 'premium'],
      stderr: "hub policy: unknown command 'premium'\n(see hub policy --help)\n",
    },
    {
      argv: ['dead-letters', 'purge'],
      stderr: "hub dead-letters: unknown command 'purge'\n(see hub dead-letters --help)\n",
    },
    {
      argv: ['dead-letters', 'list', '--service', 'nosuch'],
      stderr:
        "hub dead-letters list: option '--service <name>' argument 'nosuch' is invalid. Allowed choices are premium-ingest, settlement-ingest, payout-ingest, accounting, reconciler, hospital-reconciler, disclosure.\n(see hub dead-letters list --help)\n",
    },
    {
      argv: ['dead-letters', 'redrive'],
      stderr:
        "hub dead-letters redrive: required option '--service <name>' not specified\n(see hub dead-letters redrive --help)\n",
    },
    {
      argv: ['dead-letters', 'list', '--service', 'reconciler', '--offset', '-3'],
      stderr:
        "hub dead-letters list: option '--offset <n>' argument '-3' is invalid. Expected a whole number of at least 0\n(see hub dead-letters list --help)\n",
    },
    {
      argv: ['reconcile', 'summary', '--region', 'kaifeng'],
      stderr:
        "hub reconcile summary: option '--region <code>' argument 'kaifeng' is invalid. Expected a 6-digit region code such as 410200 or 533100\n(see hub reconcile summary --help)\n",
    },
    {
      argv: ['reconcile', 'summary', '--region', '999999'],
      stderr:
        "hub reconcile summary: option '--region <code>' argument '999999' is invalid. No policy file for region 999999 in shared/policy/regions/ (known: 410200 Kaifeng, 533100 Dehong)\n(see hub reconcile summary --help)\n",
    },
    {
      argv: ['reconcile', 'summary', '--top', 'ten'],
      stderr:
        "hub reconcile summary: option '--top <n>' argument 'ten' is invalid. Expected a whole number from 0 to 1000\n(see hub reconcile summary --help)\n",
    },
    {
      argv: ['disclosure', 'show', '--region', '533100', '--period', '2025-13'],
      stderr:
        'hub disclosure show: option \'--period <label>\' argument \'2025-13\' is invalid. Expected a year, a quarter or a month: "2025", "2025-Q1" or "2025-03"\n(see hub disclosure show --help)\n',
    },
    {
      argv: ['disclosure', 'show'],
      stderr:
        "hub disclosure show: required option '--region <code>' not specified\n(see hub disclosure show --help)\n",
    },
    {
      argv: ['disclosure', 'verify', '--url', 'ftp://example.org/feed.json'],
      stderr:
        "hub disclosure verify: option '--url <url>' argument 'ftp://example.org/feed.json' is invalid. Expected an http(s) URL such as http://127.0.0.1:8088/disclosures.json\n(see hub disclosure verify --help)\n",
    },
    {
      argv: ['disclosure', 'verify'],
      stderr:
        'hub disclosure verify: give exactly one of --file and --url\n(see hub disclosure verify --help)\n',
    },
    {
      argv: ['disclosure', 'verify', '--file', 'a.json', '--url', 'http://127.0.0.1:1/feed.json'],
      stderr:
        'hub disclosure verify: give exactly one of --file and --url\n(see hub disclosure verify --help)\n',
    },
    {
      argv: ['disclosure', 'publish', '--period', '2025'],
      stderr: 'hub disclosure publish: --period needs --region\n(see hub disclosure publish --help)\n',
    },
    {
      argv: ['simulate', '--region', '533100', '--year', '2026'],
      stderr:
        'hub simulate: --year 2026: its manual claims are paid up to 2027, but the holiday data (chinese-days and shared/policy/holidays/) covers 2004–2026; use a year from 2005 to 2025, or add shared/policy/holidays/2027.json\n(see hub simulate --help)\n',
    },
    {
      argv: ['status', 'now'],
      stderr:
        "hub status: too many arguments for 'status'. Expected 0 arguments but got 1.\n(see hub status --help)\n",
    },
    {
      argv: ['topics', 'list', '--all'],
      stderr: "hub topics list: unknown option '--all'\n(see hub topics list --help)\n",
    },
  ])('hub $argv', async ({ argv, stderr }) => {
    expect(await hub(...argv)).toEqual({ code: 2, stdout: '', stderr });
  });

  it('a command that needs no connection runs: hub topics list, exit 0', async () => {
    const run = await hub('topics', 'list');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('medfund.tax.premium.v1\n');
  });
});

describe('--namespace, or else HUB_NAMESPACE, makes the config the commands are given', () => {
  it.each([
    { argv: ['status'], found: { kind: 'absent' } },
    { argv: ['status', '--namespace', 'demo-1'], found: { kind: 'given', value: 'demo-1' } },
    { argv: ['--namespace=demo-2', 'topics', 'list'], found: { kind: 'given', value: 'demo-2' } },
    { argv: ['--namespace', 'a', 'status', '--namespace', 'b'], found: { kind: 'given', value: 'b' } },
    { argv: ['status', '--namespace'], found: { kind: 'missing' } },
    { argv: ['status', '--namespace', '--help'], found: { kind: 'missing' } },
    { argv: ['status', '--namespace='], found: { kind: 'missing' } },
    { argv: ['simulate', '--', '--namespace', 'x'], found: { kind: 'absent' } },
  ])('$argv', ({ argv, found }) => {
    expect(namespaceArgument(argv)).toEqual(found);
  });

  const BIN = fileURLToPath(new URL('../../services/hub-cli/hub.js', import.meta.url));
  const bin = (argv: string[], env: Record<string, string> = {}) => {
    const { HUB_NAMESPACE: _, ...rest } = process.env;
    const run = spawnSync(process.execPath, [BIN, ...argv], { env: { ...rest, ...env }, encoding: 'utf8' });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  it('the real bin names the topics after --namespace, or HUB_NAMESPACE, or medfund', () => {
    expect(bin(['topics', 'list', '--namespace', 'agency-test']).stdout).toMatch(
      /^agency-test\.tax\.premium\.v1\n/,
    );
    expect(bin(['topics', 'list'], { HUB_NAMESPACE: 'from-env' }).stdout).toMatch(
      /^from-env\.tax\.premium\.v1\n/,
    );
    expect(bin(['--namespace', 'flag-wins', 'topics', 'list'], { HUB_NAMESPACE: 'from-env' }).stdout).toMatch(
      /^flag-wins\./,
    );
    expect(bin(['topics', 'list']).stdout).toMatch(/^medfund\.tax\.premium\.v1\n/);
  }, 30_000);

  it('a bad --namespace is usage (2); a bad HUB_NAMESPACE is configuration (1)', () => {
    expect(bin(['topics', 'list', '--namespace', 'no/slash'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "hub: --namespace 'no/slash' must be letters, digits, '.', '_' or '-' (at most 101)\n",
    });
    expect(bin(['topics', 'list', '--namespace'])).toMatchObject({
      code: 2,
      stderr: 'hub: --namespace needs a name (see hub --help)\n',
    });
    expect(bin(['topics', 'list'], { HUB_NAMESPACE: 'no/slash' })).toMatchObject({
      code: 1,
      stderr: "hub: HUB_NAMESPACE: 'no/slash' must be letters, digits, '.', '_' or '-' (at most 101)\n",
    });
  }, 30_000);
});

describe('hub policy: what a person at a bureau types', () => {
  const supplement = (claim: Record<string, unknown>, ytd: Record<string, unknown> = {}) =>
    JSON.stringify({
      region: '533100',
      serviceDate: '2025-05-12',
      eligible: true,
      ytd: { basicFundPaid: '140000.00', supplementPaid: '0.00', ...ytd },
      claim: {
        inScopeAmount: '40000.00',
        basicFundPaid: '10000.00',
        overCapAmount: '20000.00',
        outOfArea: true,
        referred: false,
        medicalType: 'inpatient',
        ...claim,
      },
    });

  it.each(['inpatient', 'INPATIENT', 'special-outpatient', 'SPECIAL_OUTPATIENT'])(
    'medicalType %s: the records’ enum name or the word (Dehong art. 10 covers both, art. 12 −5 points)',
    (medicalType) => {
      const answer = policyAnswer('supplement', supplement({ medicalType }));
      expect(answer.stderr).toBe('');
      expect(answer.exitCode).toBe(0);
      // 20 000.00 × (0.90 − 0.05) = 17 000.00
      expect(JSON.parse(answer.stdout)).toMatchObject({ due: '17000.00', ratio: '0.85' });
    },
  );

  it.each([
    {
      what: 'a JSON number for money, in the claim',
      text: supplement({ overCapAmount: 20000.1 }),
      stderr:
        'hub policy supplement: claim.overCapAmount: expected the amount as a JSON string such as "20000.1": a JSON number is a float in most tools, a string keeps the fen exact, got 20000.1\n',
    },
    {
      what: 'a JSON number for money, year to date',
      text: supplement({}, { supplementPaid: 0 }),
      stderr:
        'hub policy supplement: ytd.supplementPaid: expected the amount as a JSON string such as "0": a JSON number is a float in most tools, a string keeps the fen exact, got 0\n',
    },
    {
      what: 'a JSON number for a premium payment',
      name: 'eligibility',
      text: '{"region":"410200","year":2025,"enrolledOn":null,"payments":[{"amount":120,"paidOn":"2024-12-20"}]}',
      stderr:
        'hub policy eligibility: payments[0].amount: expected the amount as a JSON string such as "120": a JSON number is a float in most tools, a string keeps the fen exact, got 120\n',
    },
    {
      what: 'an unknown medical type',
      text: supplement({ medicalType: 'OUTPATIENT' }),
      stderr:
        'hub policy supplement: claim.medicalType: expected one of inpatient, special-outpatient, general-outpatient, pharmacy (or the records\' INPATIENT, SPECIAL_OUTPATIENT), got "OUTPATIENT"\n',
    },
    {
      what: 'no medical type',
      text: supplement({ medicalType: undefined }),
      stderr: 'hub policy supplement: claim.medicalType: is required\n',
    },
    {
      what: 'a manual claim in a year without holiday data (a question about that year: usage, not a failure)',
      name: 'sla',
      text: '{"region":"533100","receivedOn":"2090-01-05","paidOn":"2090-01-20","serviceYear":2089}',
      stderr:
        "hub policy sla: receivedOn: no official holiday data for 2090 (chinese-days and the holiday files cover 2004–2026): add shared/policy/holidays/2090.json from the State Council's notice for 2090 (format: shared/policy/holidays/README.md), got 2090\n",
    },
  ])('$what: exit 2, one line naming the field', ({ name, text, stderr }) => {
    expect(policyAnswer(name ?? 'supplement', text)).toEqual({ exitCode: 2, stdout: '', stderr });
  });

  it('an amount as a string keeps the fen: eligibility with "120.00" paid in the window (Kaifeng art. 8)', () => {
    const answer = policyAnswer(
      'eligibility',
      '{"region":"410200","year":2025,"enrolledOn":null,"payments":[{"amount":"120.00","paidOn":"2024-12-20"}]}',
    );
    expect(answer.exitCode).toBe(0);
    expect(JSON.parse(answer.stdout)).toMatchObject({ covered: true, paidInWindow: '120.00' });
  });
});
