import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Spawns the `hub` bin with a JSON document on stdin: local process I/O only, no network.
 * Most cases run the bin file with node directly (what npx runs, minus ~0.5 s of npx start-up); one goes through npx.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HUB_BIN = fileURLToPath(new URL('../../services/hub-cli/hub.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hub(args: string[], stdin: string, via: 'node' | 'npx' = 'node'): Promise<Run> {
  const [command, prefix] = via === 'npx' ? ['npx', ['--no-install', 'hub']] : [process.execPath, [HUB_BIN]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const TIMEOUT = 20_000;

// Each case is its own process, so they run side by side.
describe.concurrent('hub policy', () => {
  it(
    'supplement: Dehong art. 12 out of the prefecture, not referred: 85 %, amounts as text',
    async () => {
      const run = await hub(
        ['policy', 'supplement'],
        `{"region":"533100","serviceDate":"2024-05-10","eligible":true,
          "ytd":{"basicFundPaid":"145000.00","supplementPaid":"0"},
          "claim":{"inScopeAmount":"30000","basicFundPaid":"5000.00","overCapAmount":"10.01",
                   "outOfArea":true,"referred":false,"medicalType":"inpatient"}}`,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({ due: '8.51', ratio: '0.85', capRemaining: null });
      expect(Array.isArray(out.trail)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'eligibility: Kaifeng art. 8 paid on 31 December for next year is covered',
    async () => {
      const run = await hub(
        ['policy', 'eligibility'],
        '{"region":"410200","year":2025,"enrolledOn":"2010-05-01","payments":[{"amount":"120.00","paidOn":"2024-12-31"}]}',
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ covered: true, reason: 'PAID_IN_FULL_IN_WINDOW' });
    },
    TIMEOUT,
  );

  it(
    'sla: Dehong art. 16 across the Spring Festival',
    async () => {
      const run = await hub(
        ['policy', 'sla'],
        '{"region":"533100","receivedOn":"2024-02-01","paidOn":"2024-03-06","serviceYear":2023}',
      );
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        workingDays: 21,
        withinSla: false,
        withinDeadline: true,
      });
    },
    TIMEOUT,
  );

  it(
    'params: Kaifeng art. 14 cap and the illustrative values in force that day',
    async () => {
      const run = await hub(['policy', 'params'], '{"region":"410200","date":"2024-06-01"}');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        basicCap: '100000.00',
        ratio: '0.90',
        referralPenalty: '0.00',
        supplementCap: '320000.00',
        premiumDue: '120.00',
      });
    },
    TIMEOUT,
  );

  it.each([
    {
      what: 'an amount with three decimals',
      args: ['policy', 'supplement'],
      stdin:
        '{"region":"533100","serviceDate":"2024-05-10","eligible":true,"ytd":{"basicFundPaid":"0","supplementPaid":"0"},"claim":{"inScopeAmount":"1","basicFundPaid":"1","overCapAmount":"12.345","outOfArea":false,"referred":false,"medicalType":"inpatient"}}',
      stderr:
        'hub policy supplement: claim.overCapAmount: expected an amount with at most 2 decimals, got "12.345"\n',
    },
    {
      what: 'an unknown region',
      args: ['policy', 'params'],
      stdin: '{"region":"110000","date":"2024-06-01"}',
      stderr: 'hub policy params: region: no policy for this region (known: 410200, 533100), got 110000\n',
    },
    {
      what: 'a bad date',
      args: ['policy', 'params'],
      stdin: '{"region":"410200","date":"2024-13-01"}',
      stderr: 'hub policy params: date: expected a calendar date "YYYY-MM-DD", got "2024-13-01"\n',
    },
    {
      what: 'invalid JSON',
      args: ['policy', 'sla'],
      stdin: '{"region":',
      stderr: 'hub policy sla: $: invalid JSON: unexpected end of input at position 10\n',
    },
  ])(
    'bad input: $what → exit 2 and one line naming the field',
    async ({ args, stdin, stderr }) => {
      const run = await hub(args, stdin);
      expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
        code: 2,
        stdout: '',
        stderr,
      });
    },
    TIMEOUT,
  );

  it(
    'npx hub: an unknown subcommand exits 2 with usage',
    async () => {
      const run = await hub(['policy', 'premium'], '', 'npx');
      expect(run.code).toBe(2);
      expect(run.stderr).toBe("hub policy: unknown command 'premium'\n(see hub policy --help)\n");
    },
    TIMEOUT,
  );
});
