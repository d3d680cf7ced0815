// Progress: a cli-progress bar on a TTY, plain lines otherwise (CI, pipes, --json).
import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, text: string): void;
  stop(): void;
}

export function progress(total: number, title: string, opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${title} [{bar}] {value}/{total} eta {eta_formatted} {text}`, stream, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { text: "" });
    return { update: (d, text) => bar.update(d, { text }), stop: () => bar.stop() };
  }
  return { update: (d, text) => stream.write(`${title} ${d}/${total} ${text}\n`), stop() {} };
}

/** A bar for work of unknown length: shown only on a TTY and only once the work has run `afterMs`. */
export interface LazyProgress {
  update(done: number, total: number, text: string): void;
  /** Change the text only (e.g. timing inside a step), keeping the step count. */
  text(text: string): void;
  stop(): void;
}

/**
 * Steps that are usually quick (planning, timing, factorizing) show a bar only when they take longer
 * than about a second, so small models print nothing extra. Pipes, CI logs and --json get nothing:
 * stdout stays the result and stderr stays the messages.
 */
export function lazyProgress(title: string, opts: { quiet?: boolean; stream?: NodeJS.WriteStream; afterMs?: number; now?: () => number } = {}): LazyProgress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY) return { update() {}, text() {}, stop() {} };
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  let bar: cliProgress.SingleBar | null = null;
  let last = { done: 0, total: 1 };
  return {
    text(text) { this.update(last.done, last.total, text); },
    update(done, total, text) {
      last = { done, total };
      if (!bar) {
        if (now() - t0 < (opts.afterMs ?? 1000)) return;
        bar = new cliProgress.SingleBar({ format: `${title} [{bar}] {value}/{total} {text}`, stream, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(1, total), 0, { text: "" });
      }
      bar.setTotal(Math.max(1, total));
      bar.update(Math.min(done, total), { text });
    },
    stop() { bar?.stop(); bar = null; },
  };
}
