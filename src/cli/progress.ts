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
