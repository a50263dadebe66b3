// The SDK's hot path: nearly every server frame is a `message` (or a batch of them). Checked by hand it costs a
// fraction of the zod parse (which also walks `data` to prove it is JSON, which JSON.parse output always is). It
// only ever accepts: anything it does not recognise goes through the full schema, which decides and explains.
import type { MessageFrame } from "./server-frames.js";

/** `value` (JSON.parse output) as the frame messageFrame.parse would return, or undefined to let zod decide. */
export function fastMessage(value: unknown): MessageFrame | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const f = value as Record<string, unknown>;
  const { type, channel, offset, epoch } = f;
  if (type !== "message" || typeof channel !== "string" || !Object.hasOwn(f, "data")) return undefined;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  // JSON.parse output: `data` is JSON, and a key is never present with the value undefined.
  const data = f.data as MessageFrame["data"];
  if (epoch === undefined) return { type, channel, offset, data };
  return typeof epoch === "string" ? { type, channel, offset, data, epoch } : undefined;
}

/** A batch (a JSON array of message frames), each by fastMessage; undefined when any one needs the schema. */
export function fastMessageBatch(value: unknown): MessageFrame[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const frames: MessageFrame[] = [];
  for (const item of value) {
    const frame = fastMessage(item);
    if (!frame) return undefined;
    frames.push(frame);
  }
  return frames;
}
