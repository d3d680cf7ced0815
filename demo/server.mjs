#!/usr/bin/env node
// Serves the built demo (demo/dist), the bundled model (demo/model) and tfjs-backend-wasm's .wasm
// files (/tfjs/) from 127.0.0.1, with the COOP/COEP headers that make the page cross-origin isolated
// (SharedArrayBuffer → tfjs-backend-wasm's threaded SIMD binary in the worker).
//   node demo/server.mjs [--port 8080]      (PORT=… works too; 0 picks a free port)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, extname, join, normalize, sep } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".wasm": "application/wasm", ".bin": "application/octet-stream", ".png": "image/png" };

/** Start the server; resolves to { server, url }. */
export function startDemoServer({ port = 8080, host = "127.0.0.1", dist = join(here, "dist") } = {}) {
  const tfjsWasm = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")) + "/dist";
  const roots = [["/tfjs/", tfjsWasm], ["/model/", join(here, "model")], ["/", dist]];
  const headers = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const [prefix, dir] = roots.find(([p]) => path.startsWith(p));
    const rel = path === "/" ? "index.html" : path.slice(prefix.length);
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir + sep) || (prefix === "/tfjs/" && !file.endsWith(".wasm"))) {
      res.writeHead(404, headers).end("not found");
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, headers).end("not found");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve({ server, url: `http://${host}:${a.port}/` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--port");
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT ?? 8080);
  const { url } = await startDemoServer({ port }).catch((e) => {
    console.error(`demo server: ${e.code === "EADDRINUSE" ? `port ${port} is in use; pick another with PORT=… (0: any free port)` : e.message}`);
    process.exit(1);
  });
  console.log(`odecomp demo: ${url}  (cross-origin isolated; Ctrl-C to stop)`);
}
