import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { stackOptionsFromEnvironment } from '../../deploy/local/launcher.js';
import { REPO_ROOT, STACK_ENV_FILE } from '../../shared/config.js';

/**
 * Ctrl-C in a terminal sends SIGINT to the whole foreground process group: npm, tsx, the demo and the
 * services it started. Afterwards nothing may be left: no process of the group, and none of the Kafka and
 * registry processes the demo started (they run in process groups of their own, so only the demo, or its
 * reaper when tsx has killed the demo, can stop them). The demo starts a stack of its own here, beside the
 * one the other tests use, on ports 200 above (its secured Redis and its disclosure page too).
 */

const base = stackOptionsFromEnvironment(process.env);
const demoStack = {
  HUB_STACK_DIR: `${base.stateDir}-demo-sigint`,
  HUB_KAFKA_PORT: String(base.kafkaPort + 200),
  HUB_REGISTRY_PORT: String(base.registryPort + 200),
  HUB_REDIS_PORT: String((base.redisPort ?? 6380) + 200),
};
// The demo's disclosure page too (its default, 8088, may be another run's).
const demoPort = '8288';

const javaMissing = spawnSync(process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java', [
  '-version',
]).error;
if (javaMissing)
  process.stderr.write('demo-sigint: skipped: the demo starts a local stack, which needs Java\n');

/** Every live process whose process group is `group` (Linux /proc). */
function processesOfGroup(group: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // pid (comm) state ppid pgrp ...; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === group && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * A process that has not ended (Linux /proc). A zombie has ended: once the demo exits, a stopped Kafka
 * is reparented to PID 1, which in some containers never reaps it (CI saw both stack pids "alive").
 */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

function waitFor(child: ChildProcess, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before "${text}":\n${seen}`));
    });
  });
}

describe.skipIf(javaMissing !== undefined)('npm run demo and Ctrl-C', () => {
  // The demo's stack writes and then removes .stack.env: keep the one the developer had.
  const stackEnv = existsSync(STACK_ENV_FILE) ? readFileSync(STACK_ENV_FILE, 'utf8') : undefined;
  let demo: ChildProcess | undefined;
  afterAll(() => {
    if (demo?.pid !== undefined && processesOfGroup(demo.pid).length > 0) process.kill(-demo.pid, 'SIGKILL');
    spawnSync(process.execPath, ['--import', 'tsx', 'deploy/local/stack.ts', 'down'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...demoStack },
    });
    rmSync(demoStack.HUB_STACK_DIR, { recursive: true, force: true });
    if (stackEnv !== undefined) writeFileSync(STACK_ENV_FILE, stackEnv);
  });

  it('SIGINT to its process group stops the services and the stack it started, and leaves nothing', async () => {
    const { HUB_NAMESPACE: _, KAFKA_BROKERS: _k, SCHEMA_REGISTRY_URL: _s, ...env } = process.env;
    // detached: a process group of its own, as a terminal gives a foreground job.
    demo = spawn('npm', ['run', 'demo', '--', '--no-serve', '--members', '100', '--port', demoPort], {
      cwd: REPO_ROOT,
      detached: true,
      env: { ...env, ...demoStack, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const group = demo.pid as number;
    let said = '';
    demo.stderr?.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => demo?.once('exit', () => resolve()));
    // While `hub simulate` publishes: it dies of the same Ctrl-C, and that failure must not end the demo
    // before it has stopped the services and the stack (it did: Kafka and the registry were left running).
    await waitFor(demo, 'generated ', 90_000);

    const state = JSON.parse(readFileSync(`${demoStack.HUB_STACK_DIR}/state.json`, 'utf8')) as {
      processes: { name: string; pid: number }[];
    };
    const stackPids = state.processes.map((p) => p.pid);
    expect(state.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['kafka-1', 'registry']));
    expect(stackPids.every(alive)).toBe(true);
    // npm, tsx, the demo, its five services and hub simulate at least.
    expect(processesOfGroup(group).length).toBeGreaterThanOrEqual(9);

    process.kill(-group, 'SIGINT');
    // npm ends by the signal itself (no exit code); the demo says what it stopped.
    await exited;

    // npm has exited; what it leaves behind must stop too (Kafka's shutdown takes a few seconds). When tsx
    // has SIGKILLed the demo, its reaper stops the stack, after npm has exited: wait for the state file too.
    const deadline = Date.now() + 45_000;
    const settled = () =>
      processesOfGroup(group).length === 0 &&
      !stackPids.some(alive) &&
      !existsSync(`${demoStack.HUB_STACK_DIR}/state.json`);
    while (!settled() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(
      { group: processesOfGroup(group), stack: stackPids.filter(alive) },
      `the demo said:\n${said}`,
    ).toEqual({
      group: [],
      stack: [],
    });
    expect(existsSync(`${demoStack.HUB_STACK_DIR}/state.json`)).toBe(false);
    // The default stack is the secured one, and the demo says so.
    expect(said).toContain('demo: secured: each service runs as its own principal');
    expect(said).toContain('demo: SIGINT: stopping what the demo started');
    expect(said).toMatch(/demo: stopped kafka-1 \(pid \d+\)\n/);
  }, 180_000);
});
