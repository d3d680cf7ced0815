import type { Server } from "node:http";
/** Serve the built demo with COOP/COEP; port 0 picks a free one. */
export function startDemoServer(options?: { port?: number; host?: string; dist?: string }): Promise<{ server: Server; url: string }>;
