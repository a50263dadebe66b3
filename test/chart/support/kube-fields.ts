// Unknown fields in rendered objects. The compiled upstream schemas check types and required fields but let any
// unknown key through, and so does `helm lint`; the API server then drops or rejects it (a misspelt
// `readinesProbe`, a field indented one level off). The TypeScript types that kubernetes-models generates from the
// same OpenAPI document name every field, so each object is walked beside its type with the TypeScript checker.
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "./helm.js";

/** The type to check an object of a kind against: the module that declares it and the interface's name. */
export interface KindType {
  module: string;
  type: string;
}

const VIRTUAL = join(ROOT, "test/chart/support/__kind-types__.ts");

export class FieldChecker {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  constructor(kinds: Record<string, KindType>) {
    const entries = Object.entries(kinds);
    const source = entries
      .map(([, k], i) => `import type { ${k.type} as T${i} } from "${k.module}";\nexport type K${i} = T${i};`)
      .join("\n");
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es5.d.ts"], // the generated types need no more; DOM and later libs only cost time
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.getSourceFile = (file, lang, ...rest) =>
      file === VIRTUAL ? ts.createSourceFile(file, source, lang) : getSourceFile(file, lang, ...rest);
    host.fileExists = (file) => file === VIRTUAL || fileExists(file);
    const program = ts.createProgram([VIRTUAL], options, host);
    const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(VIRTUAL));
    if (problems.length > 0)
      throw new Error(ts.formatDiagnostics(problems, host).trim() || "cannot load the Kubernetes types");
    this.checker = program.getTypeChecker();
    const moduleSymbol = this.checker.getSymbolAtLocation(program.getSourceFile(VIRTUAL)!)!;
    const exported = new Map(this.checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));
    entries.forEach(([key], i) => {
      this.types.set(key, this.checker.getDeclaredTypeOfSymbol(exported.get(`K${i}`)!));
    });
  }

  /** Paths of the fields in `obj` that its kind's type does not declare (empty when there are none). */
  unknownFields(key: string, obj: unknown): string[] {
    const type = this.types.get(key);
    if (!type) throw new Error(`no type for ${key}`);
    const out: string[] = [];
    this.walk(type, obj, "", out);
    return out;
  }

  private walk(declared: ts.Type, value: unknown, path: string, out: string[]): void {
    const c = this.checker;
    const type = c.getNonNullableType(declared);
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (Array.isArray(value)) {
      if (!c.isArrayType(type)) return; // a type error, which the schema validation reports
      const element = c.getTypeArguments(type as ts.TypeReference)[0]!;
      for (const [i, item] of value.entries()) this.walk(element, item, `${path}[${i}]`, out);
      return;
    }
    if (value === null || typeof value !== "object") return;
    if (type.isUnion()) {
      // Take the member the value fits; report against the first object member if none does.
      const members = type.types.filter((t) => t.flags & ts.TypeFlags.Object);
      let first: string[] | undefined;
      for (const member of members) {
        const found: string[] = [];
        this.walk(member, value, path, found);
        if (found.length === 0) return;
        first ??= found;
      }
      out.push(...(first ?? []));
      return;
    }
    const index = c.getIndexInfoOfType(type, ts.IndexKind.String);
    // An empty declared shape ({}) is upstream's way of saying "any JSON" (JSONSchemaPropsOrBool, RawExtension).
    if (!index && c.getPropertiesOfType(type).length === 0) return;
    for (const [key, child] of Object.entries(value)) {
      const property = c.getPropertyOfType(type, key);
      if (property) {
        this.walk(c.getTypeOfSymbol(property), child, `${path}.${key}`, out);
        continue;
      }
      if (index) this.walk(index.type, child, `${path}.${key}`, out);
      else out.push(`${path}.${key}`);
    }
  }
}
