// The API server's error shape: a Status object with code, reason and optional details, thrown as HttpError
// anywhere in the request path and written by the server's one catch.
import type { JsonObject } from "./fieldset.js";
import type { ResourceType } from "./resources.js";

export class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
  ) {
    super(message);
  }
}

export function statusBody(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  };
}

/** `deployments.apps`, `pods`: how the real server names a resource in its messages. */
export function qualified(rt: ResourceType): string {
  return `${rt.plural}${rt.group ? `.${rt.group}` : ""}`;
}

export function notFound(rt: ResourceType, name: string): HttpError {
  return new HttpError(404, "NotFound", `${qualified(rt)} "${name}" not found`, {
    name,
    group: rt.group,
    kind: rt.plural,
  });
}

export function noSuchPath(path: string): HttpError {
  return new HttpError(404, "NotFound", `the server could not find the requested resource (${path})`);
}
