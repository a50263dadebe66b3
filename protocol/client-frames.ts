// Client → server frames, the channel-name schema, and their parser. Only the gateway parses these; every schema is
// built inside pure() so the browser client (which only encodes them) does not bundle them or zod's object JIT.
import * as z from "zod/mini";
import { ZodMiniObject } from "zod/mini";
import { $constructor, $ZodObjectJIT, config, globalConfig } from "zod/v4/core";
import en from "zod/v4/locales/en.js";
import { CHANNEL_RE, MAX_CHANNEL_LENGTH } from "./channels.js";
import { frameId, offset } from "./fields.js";

/**
 * `pure(() => schema)` is that schema, built in a call a bundler may drop when nothing uses it. esbuild carries
 * neither zod's own no-side-effects marks nor this one across modules, so every schema built with it lives in
 * this file; without it the browser client would ship the channel and client-frame schemas (and zod's object JIT).
 */
/* @__NO_SIDE_EFFECTS__ */
function pure<T>(build: () => T): T {
  return build();
}

export const channelName = pure(() =>
  z
    .string()
    .check(
      z.minLength(1, "channel must not be empty"),
      z.maxLength(MAX_CHANNEL_LENGTH, `channel must be at most ${MAX_CHANNEL_LENGTH} characters`),
      z.regex(CHANNEL_RE, "channel may contain only letters, digits and _ - : . @ / ="),
    ),
);

/**
 * A strict object on zod's JIT-compiled object parser, the one classic `z.object` uses: zod/mini leaves it out to
 * stay small, but the gateway decodes every client frame on its hot path, where it is ~25% faster. Same parse
 * semantics and issues as `z.strictObject`; browsers never bundle it (the client parses only server frames).
 */
const ZodMiniObjectJIT: $constructor<ZodMiniObject> = /* @__PURE__ */ $constructor(
  "ZodMiniObjectJIT",
  (inst, def) => {
    $ZodObjectJIT.init(inst, def);
    ZodMiniObject.init(inst, def);
  },
);
/* @__NO_SIDE_EFFECTS__ */
function strictFrame<T extends z.core.$ZodLooseShape>(shape: T): ReturnType<typeof z.strictObject<T>> {
  return new ZodMiniObjectJIT({ type: "object", shape, catchall: z.never() }) as ReturnType<
    typeof z.strictObject<T>
  >;
}

export const subscribeFrame = pure(() =>
  strictFrame({
    type: z.literal("subscribe"),
    id: frameId,
    channel: channelName,
    /** Last offset the client saw on this channel: replay what followed it. */
    since: z.optional(offset),
    /** Epoch the `since` offset belongs to (from an earlier ack); a different epoch means history was lost. */
    epoch: z.optional(z.string().check(z.maxLength(64))),
    /** Also send join/leave frames for this channel. */
    presence: z.optional(z.boolean()),
  }),
);
export const unsubscribeFrame = pure(() =>
  strictFrame({
    type: z.literal("unsubscribe"),
    id: frameId,
    channel: channelName,
  }),
);
export const publishFrame = pure(() =>
  strictFrame({
    type: z.literal("publish"),
    id: frameId,
    channel: channelName,
    data: z.json(),
  }),
);
export const pingFrame = pure(() => strictFrame({ type: z.literal("ping"), id: frameId }));
export const presenceFrame = pure(() =>
  strictFrame({
    type: z.literal("presence"),
    id: frameId,
    channel: channelName,
  }),
);

/** Replace the connection's token in place (new expiry and rights); also the first frame after `?auth=frame`. */
export const refreshFrame = pure(() =>
  strictFrame({
    type: z.literal("refresh"),
    id: frameId,
    token: z.string().check(z.minLength(1), z.maxLength(8192)),
  }),
);

export const clientFrame = pure(() =>
  z.discriminatedUnion("type", [
    subscribeFrame,
    unsubscribeFrame,
    publishFrame,
    pingFrame,
    presenceFrame,
    refreshFrame,
  ]),
);
export type ClientFrame = z.infer<typeof clientFrame>;
export type SubscribeFrame = z.infer<typeof subscribeFrame>;
export type PublishFrame = z.infer<typeof publishFrame>;

export type DecodeResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; id: number | undefined; message: string };

/** Parse one client text frame. Never throws: a bad frame yields a message fit for a `bad_request` error. */
export function decodeClientFrame(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, id: undefined, message: "frame is not valid JSON" };
  }
  const parsed = clientFrame.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const id = typeof raw === "object" && raw !== null && "id" in raw ? (raw as { id: unknown }).id : undefined;
  // English issue messages, as classic zod installs them: zod/mini installs no locale (its messages would all read
  // "Invalid input"). Here, not per parse: an error map passed to safeParse halves the valid-frame rate.
  if (!globalConfig.localeError) config(en());
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return {
    ok: false,
    id: typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined,
    message: `${where}${issue?.message ?? "invalid frame"}`,
  };
}
