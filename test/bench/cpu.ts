import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU seconds a process has used so far (user + system, from /proc/<pid>/stat), or null when it is not
 * readable (not Linux, or the process is gone). The benchmark samples every process at the start and the
 * end of a phase, so the difference says where the phase's CPU went.
 */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of proc(5), the 12th and 13th after the name.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return null;
  }
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU seconds per named process over a phase: `start()` samples, `stop()` returns the differences. */
export class CpuSampler {
  private readonly before = new Map<string, number>();
  constructor(private readonly pids: () => ReadonlyMap<string, number>) {}

  start(): void {
    this.before.clear();
    for (const [name, pid] of this.pids()) {
      const cpu = processCpuSeconds(pid);
      if (cpu !== null) this.before.set(name, cpu);
    }
  }

  stop(): Map<string, number> {
    const used = new Map<string, number>();
    for (const [name, pid] of this.pids()) {
      const start = this.before.get(name);
      const end = processCpuSeconds(pid);
      if (start !== undefined && end !== null) used.set(name, end - start);
    }
    return used;
  }
}
