// Placeholder until the gateway lands (issue 2).
export async function main(): Promise<void> {
  throw new Error("gateway not implemented yet");
}
