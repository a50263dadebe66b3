// Calling the server API from tests (POST /api/<method> with the bearer key) and signing user tokens for it.
import { SignJWT } from "jose";

export const API_SECRET = "server-api-jwt-secret-for-tests-0123456789";

/** RTGW_* for a gateway whose connections carry a user (JWT `sub`) the fleet orders can name. */
export const JWT_ENV = { RTGW_AUTH: "jwt", RTGW_JWT_SECRET: API_SECRET };

/** A token for `sub` allowed to subscribe to and publish on every channel. */
export function userToken(sub: string): Promise<string> {
  return new SignJWT({ sub, channels: { subscribe: ["*"], publish: ["*"] } })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(API_SECRET));
}

export interface ApiAnswer {
  status: number;
  // The answers' shapes are asserted by each test.
  body: Record<string, unknown>;
}

/** `body` as a string is sent as is (bad JSON tests); `key` null sends no Authorization header. */
export async function callApi(
  baseUrl: string,
  method: string,
  body: unknown,
  key: string | null,
): Promise<ApiAnswer> {
  const res = await fetch(`${baseUrl}/api/${method}`, {
    method: "POST",
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** How a test socket closed, or code -1 when it is still open after `ms` (a broken order must fail, not hang). */
export function closedWithin(
  closed: Promise<{ code: number; reason: string }>,
  ms = 5000,
): Promise<{ code: number; reason: string }> {
  return Promise.race([
    closed,
    new Promise<{ code: number; reason: string }>((resolve) =>
      setTimeout(() => resolve({ code: -1, reason: "still open" }), ms).unref(),
    ),
  ]);
}
