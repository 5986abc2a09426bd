/**
 * A small progress bar for long CLI runs: `[#####.....] 52% 12345/23456 events 3.2k/s`. Redrawn in
 * place with \r on a terminal; one line per 10 % otherwise, so CI logs stay short.
 */

/** Where the bar is drawn: process.stderr, or anything with write() (tests). */
export interface ProgressStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  readonly total: number;
  readonly stream: ProgressStream;
  /** What is counted, e.g. "events". */
  readonly unit?: string;
  /** Characters between the brackets. */
  readonly width?: number;
  /** Milliseconds, for tests; performance.now() by default. */
  readonly now?: () => number;
  /** Shortest time between two redraws on a terminal. */
  readonly redrawMs?: number;
  /** Already done when the bar starts (work of an earlier run): counted in the bar, not in the rate. */
  readonly initial?: number;
}

/** 950/s, 3.2k/s, 1.4M/s. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return '–/s';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}

/** One rendering of the bar, e.g. `[#####.....] 52% 12345/23456 events 3.2k/s`. */
export function formatProgress(
  done: number,
  total: number,
  perSecond: number,
  width = 10,
  unit = 'events',
): string {
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.floor(fraction * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const percent = String(Math.floor(fraction * 100)).padStart(3);
  return `[${bar}] ${percent}% ${done}/${total} ${unit} ${formatRate(perSecond)}`;
}

export class ProgressBar {
  private readonly started: number;
  private done = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastDecile = -1;
  /** How many were done at the last drawing (-1: never drawn). */
  private drawnAt = -1;
  private finished = false;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Sets how many are done (not an increment) and redraws when it is time to. */
  update(done: number): void {
    this.done = done;
    if (this.finished) return;
    const { stream, total } = this.options;
    if (stream.isTTY === true) {
      const now = this.now();
      if (now - this.lastDraw < (this.options.redrawMs ?? 100) && done < total) return;
      this.lastDraw = now;
      this.draw('\r', '');
      return;
    }
    const decile = total <= 0 ? 10 : Math.floor((Math.min(done, total) / total) * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.draw('', '\n');
    }
  }

  /** Draws the final state unless it is already on screen, and ends the line on a terminal. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const tty = this.options.stream.isTTY === true;
    if (this.done !== this.drawnAt) this.draw(tty ? '\r' : '', '\n');
    else if (tty) this.options.stream.write('\n');
  }

  private draw(before: string, after: string): void {
    this.drawnAt = this.done;
    this.options.stream.write(`${before}${this.render()}${after}`);
  }

  private render(): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? (this.done - (this.options.initial ?? 0)) / seconds : 0;
    return formatProgress(this.done, this.options.total, rate, this.options.width, this.options.unit);
  }
}
