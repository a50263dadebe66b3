// A reference to one key of a Secret in the RealtimeGateway's namespace: how every credential enters the spec.
import { z } from "zod";

export const secretKeyRef = z.object({
  name: z.string().min(1).max(253).describe("Secret in the RealtimeGateway's namespace"),
  key: z.string().min(1).max(253).describe("key inside the Secret"),
});
export type SecretKeyRef = z.infer<typeof secretKeyRef>;
