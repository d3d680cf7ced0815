// One error type for everything odecomp rejects, so callers can tell our
// validation failures from bugs. Messages name the bad value and what was expected.
export class OdecompError extends Error {
  override name = "OdecompError";
}

export function fail(where: string, message: string): never {
  throw new OdecompError(`${where}: ${message}`);
}

export function check(cond: unknown, where: string, message: () => string): asserts cond {
  if (!cond) fail(where, message());
}
