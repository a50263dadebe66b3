// The one logging shape every part of the operator takes (pino's object-first calls), so tests can pass a silent one.
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
