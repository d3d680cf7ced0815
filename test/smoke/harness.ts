// Shared by the Chromium suites: bundle browser entry points with esbuild in memory and serve them
// from 127.0.0.1 — cross-origin isolated (COOP/COEP) except the paths a suite marks as plain, which
// is how a page without SharedArrayBuffer is tested.
import { createServer, type Server } from "node:http";
import { build } from "esbuild";

export type Files = Record<string, string | Uint8Array>;

/** Bundle each entry to `/<name>.js`; `external` for Node-only imports a browser never takes. */
export async function bundle(entryPoints: Record<string, string>, external: string[] = []): Promise<Files> {
  const res = await build({
    entryPoints, bundle: true, format: "esm", target: "es2022", platform: "browser",
    write: false, outdir: "/virtual", external, logLevel: "silent",
  });
  const files: Files = {};
  for (const f of res.outputFiles) files["/" + f.path.split("/").pop()] = f.text;
  return files;
}

/** An HTML page that loads one bundled module. */
export const page = (title: string, script: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"><script type="module" src="./${script}"></script>`;

const typeOf = (path: string) =>
  path.endsWith(".wasm") ? "application/wasm" : path.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/html; charset=utf-8";

/** Serve `files` on a free port; paths for which `plain(path)` holds get no COOP/COEP headers. */
export function serve(files: Files, plain: (path: string) => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const isolation = plain(path) ? {} : { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
    const headers = { ...isolation, "Cache-Control": "no-store" };
    const body = files[path];
    if (body === undefined) { res.writeHead(404, headers).end("not found"); return; }
    res.writeHead(200, { ...headers, "Content-Type": typeOf(path) }).end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
