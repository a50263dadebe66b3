// The SDK's hot path: nearly every server frame is a `message` (or a batch of them). Checked by hand it costs a
// fraction of the zod parse (which also walks `data` to prove it is JSON, which JSON.parse output always is). It
// only ever accepts: anything it does not recognise goes through the full schema, which decides and explains.
import type { MessageFrame } from "./server-frames.js";

/** `value` (JSON.parse output) as messageFrame.parse would return it, or undefined to let zod decide. */
export function fastMessage(value: unknown): MessageFrame | undefined {
  // An array has no `type`; JSON.parse output never holds a key whose value is undefined.
  if (typeof value !== "object" || value === null || !("data" in value)) return undefined;
  const { type, channel, offset, epoch, data } = value as Record<string, unknown> & {
    data: MessageFrame["data"];
  };
  if (
    type !== "message" ||
    typeof channel !== "string" ||
    !Number.isSafeInteger(offset) ||
    (offset as number) < 0
  )
    return undefined;
  const frame: MessageFrame = { type, channel, offset: offset as number, data };
  if (epoch === undefined) return frame;
  if (typeof epoch !== "string") return undefined;
  frame.epoch = epoch;
  return frame;
}

/** A frame or a batch (a JSON array of message frames), each by fastMessage; undefined when any needs the schema. */
export function fastMessages(value: unknown): MessageFrame[] | undefined {
  const frames: MessageFrame[] = [];
  for (const item of [value].flat()) {
    const frame = fastMessage(item);
    if (!frame) return undefined;
    frames.push(frame);
  }
  return frames;
}
