// A 64-bit FNV-1a of a string as 16 hex digits: the cache key of a folder (its file
// list, sizes, mtimes and the load options). Not cryptographic; it only has to change
// when any of those change, and to be the same in every runtime.
export function hashString(s: string): string {
  let h1 = 0x811c9dc5 | 0, h2 = 0xcbf29ce4 | 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 16), 0x01000193);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}
