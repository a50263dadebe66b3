// HS256 tokens for load connections, with the claims the gateway checks (sub, exp, channels).
import { SignJWT } from "jose";

export async function mintToken(options: {
  secret: string;
  sub: string;
  ttlSeconds: number;
  subscribe: string[];
  publish: string[];
}): Promise<string> {
  return new SignJWT({ channels: { subscribe: options.subscribe, publish: options.publish } })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds)
    .sign(new TextEncoder().encode(options.secret));
}
