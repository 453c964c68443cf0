/**
 * Base64 without dependencies (atob/btoa exist in every runtime we target).
 *
 * @module
 */

/** Encodes bytes as base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(s);
}

/**
 * Decodes base64 into bytes: the runtime's `Uint8Array.fromBase64` where it exists (V8 ≥ 14, e.g.
 * Deno 2.9; the atob loop below cost 3.3 ms for the 39 KB engine module in a cold process,
 * bench/results/engine_language.md), else an atob loop.
 */
export function decodeBase64(b64: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(b64);
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
