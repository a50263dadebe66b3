// The runtime covers only what loadtest/k6/ uses. Anything else a script asks for is an Unsupported error, which
// aborts the whole run (exit 107) wherever it is thrown: a feature silently ignored would make a run lie.

export class Unsupported extends Error {
  constructor(what: string) {
    super(`${what} is not supported by the test-support k6 runtime (test-support/k6/)`);
    this.name = "Unsupported";
  }
}

/** A k6 configuration error (k6's exit code 104, InvalidConfig): bad options, a threshold on no metric. */
export class InvalidConfig extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidConfig";
  }
}

/** k6's exit codes, as `k6 run` returns them. */
export const EXIT = { ok: 0, thresholdsFailed: 99, invalidConfig: 104, scriptException: 107 } as const;
