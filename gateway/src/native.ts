// uWebSockets.js silently falls back to a slow JS shim when its native binary does not load. We refuse to run on it.
import uWS from "uWebSockets.js";

/** The native build exports SSLApp and H3App; the shim only App. */
export function uwsIsNative(
  mod: Record<string, unknown> = uWS as unknown as Record<string, unknown>,
): boolean {
  return typeof mod.SSLApp === "function" && typeof mod.H3App === "function";
}
