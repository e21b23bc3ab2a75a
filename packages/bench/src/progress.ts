/*
 * The live progress line. On a TTY one line is rewritten in place (carriage return) and ticks
 * every 250 ms through a measurement; elsewhere (CI logs, pipes) each step is one plain line,
 * with no ticking, so logs stay short.
 */
import type { BenchProgress } from './options.js';

export interface ProgressPrinter {
  readonly onProgress: (event: BenchProgress) => void;
  /** Clears the live line (before printing the table). */
  end(): void;
}

export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  const tty = stream.isTTY === true;
  let timer: NodeJS.Timeout | null = null;
  let width = 0;
  const write = (line: string) => {
    if (tty) {
      const columns = stream.columns || 100;
      const shown = line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
      stream.write(`\r${shown}${' '.repeat(Math.max(0, width - shown.length))}`);
      width = shown.length;
    } else {
      stream.write(`${line}\n`);
    }
  };
  const stopTicking = () => { if (timer) clearInterval(timer); timer = null; };
  const pct = (fraction: number) => `${String(Math.floor(fraction * 100)).padStart(3)}%`;

  const onProgress = (event: BenchProgress) => {
    stopTicking();
    const head = `bench ${pct(event.fraction)}`;
    const target = event.target ?? '';
    switch (event.phase) {
      case 'start': write(`${head}  starting ${target}…`); break;
      case 'ready': write(`${head}  ${target} is up`); break;
      case 'failed':
        if (tty) { stream.write('\r'); stream.write(' '.repeat(width)); stream.write('\r'); width = 0; }
        stream.write(`bench: ${target}: ${event.message}\n`);
        break;
      case 'warmup':
      case 'measure': {
        const what = event.phase === 'warmup' ? 'warming up' : `round ${event.round}/${event.rounds}`;
        const started = Date.now();
        const show = () => {
          const elapsed = (Date.now() - started) / 1000;
          write(`${head}  ${what}  ${target}  ${Math.min(elapsed, event.seconds ?? 0).toFixed(0)}/${event.seconds}s`);
        };
        if (tty) show(); else write(`${head}  ${what}  ${target}  (${event.seconds} s)`);
        if (tty) { timer = setInterval(show, 250); timer.unref(); }
        break;
      }
      case 'measured': if (!tty) write(`${head}  round ${event.round}/${event.rounds}  ${target}: ${event.message}`); break;
      case 'stop': write(`${head}  stopping servers`); break;
      case 'done': break;
    }
  };
  return {
    onProgress,
    end() {
      stopTicking();
      if (tty && width) { stream.write(`\r${' '.repeat(width)}\r`); width = 0; }
    },
  };
}
