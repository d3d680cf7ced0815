// A value as error messages show it: the value and, unless it is a finite
// number (the usual expected kind), its type — so `rank: "3"` reads
// `"3" (a string)` rather than `3`, and NaN is not printed as JSON's `null`.
export function show(v: unknown): string {
  switch (typeof v) {
    case "number": return Number.isFinite(v) ? String(v) : `${v} (a number)`;
    case "string": return `${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)} (a string)`;
    case "boolean": return `${v} (a boolean)`;
    case "bigint": return `${v}n (a bigint)`;
    case "undefined": return "undefined";
    case "symbol": return `${String(v)} (a symbol)`;
    case "function": return "a function";
  }
  if (v === null) return "null";
  let text: string;
  try { text = JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x)) ?? String(v); } catch { text = Object.prototype.toString.call(v); }
  if (text.length > 60) text = text.slice(0, 60) + "…";
  return `${text} (${Array.isArray(v) ? "an array" : ArrayBuffer.isView(v) ? `a ${v.constructor.name}` : "an object"})`;
}
