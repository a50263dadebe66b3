// Field schemas both directions share: request ids and channel offsets (non-negative safe integers).
import * as z from "zod/mini";

export const frameId = z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER));
export const offset = z.number().check(z.int(), z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER));
