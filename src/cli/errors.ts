// Exit codes: 0 ok, 1 failure, 2 usage error.
export class UsageError extends Error {
  override name = "UsageError";
}
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;
