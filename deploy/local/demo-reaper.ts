import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readStackState, stackDown, stackOptionsFromEnvironment } from './launcher.js';

/**
 * The demo's reaper: deploy/local/demo.ts starts it (detached: a session of its own, which Ctrl-C does not
 * reach) once it has started a stack, with an IPC channel. The demo itself can be killed while it stops
 * what it started: tsx relays Ctrl-C to it and SIGKILLs it when the demo has not reported the signal
 * after twice 30 ms (a busy 2-core machine misses that), and npm relays Ctrl-C once more. When the
 * channel closes (the demo ended, however it ended), this stops what is left: the children the demo named
 * that still run, and the stack, if its state file still names the run the demo started. After a clean
 * exit of the demo there is nothing left, and it exits without a word.
 */

export interface ReapedChild {
  readonly name: string;
  readonly pid: number;
  /** A string in the child's command line that proves the pid is still that child (pids are reused). */
  readonly marker: string;
}

/** What the demo sends: each child it starts, as it starts it. */
export interface ReaperMessage {
  readonly children: readonly ReapedChild[];
}

/** What the reaper sends once it listens: a message sent before then would be lost. */
export const REAPER_READY = 'reaper ready';

/** How long a child the demo named may take to stop after SIGTERM before it is killed. */
export const CHILD_STOP_MS = 10_000;

/** Alive and still that child (a zombie has an empty command line): Linux /proc, as the launcher. */
export function stillRunning(child: ReapedChild): boolean {
  try {
    return readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes(child.marker);
  } catch {
    return false;
  }
}

/** SIGTERM, a bounded wait, then SIGKILL: the stack goes away anyway, so nothing is worth waiting longer for. */
export async function stopChildren(
  children: readonly ReapedChild[],
  log: (line: string) => void,
  waitMs = CHILD_STOP_MS,
): Promise<void> {
  const kill = (child: ReapedChild, signal: NodeJS.Signals) => {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  };
  const running = children.filter(stillRunning);
  for (const child of running) kill(child, 'SIGTERM');
  const deadline = Date.now() + waitMs;
  while (running.some(stillRunning) && Date.now() < deadline) await sleep(100);
  for (const child of running.filter(stillRunning)) {
    log(`${child.name} (pid ${child.pid}) did not stop in ${waitMs / 1000} s; killing it`);
    kill(child, 'SIGKILL');
  }
}

async function reap(): Promise<void> {
  // The demo's terminal or pipe may be gone by now: a failed write must not stop the stack stopping.
  process.stderr.on('error', () => {});
  const say = (line: string) => process.stderr.write(`demo: ${line}\n`);
  const options = stackOptionsFromEnvironment(process.env, { log: say });
  // The run the demo started: a later stack in the same directory is someone else's.
  const startedAt = readStackState(options)?.startedAt;
  const children = new Map<number, ReapedChild>();
  process.on('message', (message: ReaperMessage) => {
    for (const child of message.children) children.set(child.pid, child);
  });
  await new Promise<void>((resolve) => {
    process.once('disconnect', () => resolve());
    // Started without a channel, or the demo ended while this module loaded.
    if (!process.connected || !process.send) resolve();
    else process.send(REAPER_READY, (error: Error | null) => error && resolve());
  });
  const left = [...children.values()].filter(stillRunning);
  const stack = startedAt !== undefined && readStackState(options)?.startedAt === startedAt;
  if (left.length === 0 && !stack) return;
  say(
    `the demo ended before it had stopped everything; its reaper stops ${[
      ...left.map((c) => c.name),
      ...(stack ? ['the stack'] : []),
    ].join(', ')}`,
  );
  await Promise.all([stopChildren(left, say), stack ? stackDown(options) : Promise.resolve(false)]);
}

if (process.argv[1]?.endsWith('demo-reaper.ts') || process.argv[1]?.endsWith('demo-reaper.js'))
  await reap().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`demo: the reaper could not stop the stack: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
