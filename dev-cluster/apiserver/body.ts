// Request bodies: JSON or YAML objects, with the API server's errors for anything else.
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { HttpError } from "./errors.js";
import { isObject, type Json, type JsonObject } from "./fieldset.js";

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function parseBody(raw: string, contentType: string | undefined): JsonObject {
  if (contentType && !contentType.startsWith("application/json") && !contentType.includes("yaml")) {
    throw new HttpError(415, "UnsupportedMediaType", `unsupported content type ${contentType}`);
  }
  if (contentType?.includes("yaml")) return parseYamlBody(raw);
  let v: Json;
  try {
    v = JSON.parse(raw || "null") as Json;
  } catch {
    throw new HttpError(400, "BadRequest", "the request body is not JSON");
  }
  if (!isObject(v)) throw new HttpError(400, "BadRequest", "the request body must be an object");
  return v;
}

export function parseYamlBody(raw: string): JsonObject {
  let v: unknown;
  try {
    v = parseYaml(raw);
  } catch (e) {
    throw new HttpError(400, "BadRequest", `yaml: ${(e as Error).message}`);
  }
  if (!isObject(v as Json)) throw new HttpError(400, "BadRequest", "the request body must be an object");
  return v as JsonObject;
}

/** A DELETE's body (DeleteOptions), or none. */
export function parseDeleteOptions(raw: string): JsonObject {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as Json;
    if (isObject(v)) return v;
  } catch {
    // fall through
  }
  throw new HttpError(400, "BadRequest", "DeleteOptions: the request body must be a JSON object");
}
