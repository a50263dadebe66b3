// Table responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), what `kubectl get` asks for: a CRD's
// additionalPrinterColumns after Name, and for built-in kinds the columns the real server prints (pkg/printers:
// Deployments' Ready/Up-to-date/Available, Pods' Ready/Status/Restarts with "Terminating", Services' Type/
// Cluster-IP/Port(s), Events' Last Seen/Type/Reason/Object/Message, ...). Ages as kubectl's HumanDuration.
import { isObject, type Json, type JsonObject } from "./fieldset.js";
import type { PrinterColumn, ResourceType } from "./resources.js";

type Cell = string | number | boolean | null;
interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}
interface Printer {
  columns: Column[];
  cells: (o: JsonObject) => Cell[];
}

/** Which Table version an Accept header asks for, if any (kubectl lists meta.k8s.io/v1 first). */
export function wantsTable(accept: string | undefined): "v1" | "v1beta1" | undefined {
  for (const part of (accept ?? "").split(",")) {
    const params = new Map(
      part
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    if (params.get("as") !== "Table" || params.get("g") !== "meta.k8s.io") continue;
    const v = params.get("v");
    if (v === "v1" || v === "v1beta1") return v;
  }
  return undefined;
}

/** A list (or one object) as a Table; rows carry PartialObjectMetadata unless includeObject says otherwise. */
export function tableOf(
  rt: ResourceType,
  listOrObject: JsonObject,
  q: Record<string, string>,
  version: "v1" | "v1beta1",
): JsonObject {
  const isList = Array.isArray(listOrObject.items);
  const items = isList ? (listOrObject.items as JsonObject[]) : [listOrObject];
  const printer = printerFor(rt);
  const include = q.includeObject ?? "Metadata";
  const apiVersion = `meta.k8s.io/${version}`;
  const rowObject = (o: JsonObject): JsonObject | undefined => {
    if (include === "None") return undefined;
    if (include === "Object") return o;
    return { kind: "PartialObjectMetadata", apiVersion, metadata: o.metadata as Json };
  };
  const meta = (listOrObject.metadata ?? {}) as JsonObject;
  return {
    kind: "Table",
    apiVersion,
    metadata: { resourceVersion: (meta.resourceVersion as string | undefined) ?? "" },
    columnDefinitions: printer.columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description ?? "",
      priority: c.priority ?? 0,
    })) as unknown as Json,
    rows: items.map((o) => {
      const object = rowObject(o);
      return { cells: printer.cells(o), ...(object ? { object } : {}) };
    }),
  };
}

/**
 * For a watch asking for Tables (`kubectl get -w`): each event's object is a one-row Table; only the first carries
 * the column definitions, as on a real server (kubectl reuses the last ones it printed).
 */
export function watchTableRows(
  rt: ResourceType,
  q: Record<string, string>,
  version: "v1" | "v1beta1",
): (o: JsonObject) => JsonObject {
  let first = true;
  return (o) => {
    const t = tableOf(rt, o, q, version);
    if (!first) t.columnDefinitions = [];
    first = false;
    return t;
  };
}

const NAME: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
};
const AGE: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
};

function printerFor(rt: ResourceType): Printer {
  if (rt.printerColumns && rt.printerColumns.length > 0) return crdPrinter(rt.printerColumns);
  if (rt.printerColumns)
    return crdPrinter([{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }]);
  return BUILT_IN[`${rt.group}/${rt.kind}`] ?? DEFAULT;
}

function crdPrinter(cols: PrinterColumn[]): Printer {
  return {
    columns: [
      NAME,
      ...cols.map((c) => ({
        name: c.name,
        type: c.type,
        ...(c.format ? { format: c.format } : {}),
        ...(c.description ? { description: c.description } : {}),
        priority: c.priority ?? 0,
      })),
    ],
    cells: (o) => [nameOf(o), ...cols.map((c) => cellFor(c.type, jsonPath(o, c.jsonPath)))],
  };
}

/** As the real CRD table convertor: integers, numbers, booleans and strings by type; dates as ages. */
function cellFor(type: string, v: Json | undefined): Cell {
  if (v === undefined || v === null) return null;
  switch (type) {
    case "integer":
      return typeof v === "number" ? Math.trunc(v) : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    case "date":
      return typeof v === "string" ? age(v) : null;
    default:
      return typeof v === "string" ? v : JSON.stringify(v);
  }
}

/** The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`. */
export function jsonPath(o: Json, path: string): Json | undefined {
  const tokens = path
    .replace(/^\{|\}$/g, "")
    .match(/\.[\w-]+|\[\d+\]|\[\?\(@\.[\w-]+\s*==\s*["'][^"']*["']\)\]/g);
  let cur: Json | undefined = o;
  for (const t of tokens ?? []) {
    if (cur === undefined || cur === null) return undefined;
    if (t.startsWith(".")) cur = isObject(cur) ? cur[t.slice(1)] : undefined;
    else if (/^\[\d+\]$/.test(t)) cur = Array.isArray(cur) ? cur[Number(t.slice(1, -1))] : undefined;
    else {
      const m = /@\.([\w-]+)\s*==\s*["']([^"']*)["']/.exec(t)!;
      cur = Array.isArray(cur) ? cur.find((x) => isObject(x) && x[m[1]!] === m[2]) : undefined;
    }
  }
  return cur;
}

/** kubectl's duration.HumanDuration of the time since `timestamp`. */
export function age(timestamp: string, nowMs = Date.now()): string {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "<invalid>";
  return humanDuration(nowMs - t);
}

export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

// ---- built-in kinds -----------------------------------------------------------------------------------------

const str = (v: Json | undefined): string => (typeof v === "string" && v !== "" ? v : "<none>");
const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const nameOf = (o: JsonObject): string => obj(o.metadata).name as string;
const ageOf = (o: JsonObject): string => age(obj(o.metadata).creationTimestamp as string);
const col = (name: string, type = "string", priority = 0): Column => ({ name, type, priority });
const labelsText = (v: Json | undefined): string => {
  const entries = Object.entries(obj(v));
  return entries.length === 0 ? "<none>" : entries.map(([k, x]) => `${k}=${String(x)}`).join(",");
};

// Roles print their creation time; bindings their role and, wide, their subjects (pkg/printers' rbac columns).
const ROLE: Printer = {
  columns: [NAME, col("Created At", "date")],
  cells: (o) => [nameOf(o), obj(o.metadata).creationTimestamp as string],
};
const BINDING: Printer = {
  columns: [
    NAME,
    col("Role"),
    AGE,
    col("Users", "string", 1),
    col("Groups", "string", 1),
    col("ServiceAccounts", "string", 1),
  ],
  cells: (o) => {
    const ref = obj(o.roleRef);
    const subjects = arr(o.subjects).map(obj);
    const named = (kind: string, withNs = false) =>
      subjects
        .filter((s) => s.kind === kind)
        .map((s) => (withNs ? `${String(s.namespace ?? "")}/${String(s.name)}` : String(s.name)))
        .join(", ");
    return [
      nameOf(o),
      `${String(ref.kind)}/${String(ref.name)}`,
      ageOf(o),
      named("User"),
      named("Group"),
      named("ServiceAccount", true),
    ];
  },
};

const DEFAULT: Printer = {
  columns: [NAME, { name: "Created At", type: "date", description: "CreationTimestamp." }],
  cells: (o) => [nameOf(o), obj(o.metadata).creationTimestamp as string],
};

function podStatus(o: JsonObject): { ready: string; status: string; restarts: string } {
  const status = obj(o.status);
  const statuses = arr(status.containerStatuses).map(obj);
  const total = arr(obj(o.spec).containers).length;
  const ready = statuses.filter((c) => c.ready === true).length;
  let reason = (status.reason as string | undefined) ?? (status.phase as string | undefined) ?? "Pending";
  for (const c of statuses) {
    const state = obj(c.state);
    const waiting = obj(state.waiting).reason;
    const terminated = obj(state.terminated).reason;
    if (typeof waiting === "string" && waiting !== "") reason = waiting;
    else if (typeof terminated === "string" && terminated !== "") reason = terminated;
  }
  if (obj(o.metadata).deletionTimestamp !== undefined) reason = "Terminating";
  const restarts = statuses.reduce((n, c) => n + ((c.restartCount as number | undefined) ?? 0), 0);
  return { ready: `${ready}/${total}`, status: reason, restarts: String(restarts) };
}

function servicePorts(spec: JsonObject): string {
  const ports = arr(spec.ports).map(obj);
  if (ports.length === 0) return "<none>";
  return ports
    .map(
      (p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${(p.protocol as string | undefined) ?? "TCP"}`,
    )
    .join(",");
}

function eventTime(e: JsonObject, field: "lastTimestamp" | "firstTimestamp"): string {
  const t = (e[field] as string | undefined) || (e.eventTime as string | undefined);
  return t ? age(t) : "<unknown>";
}

const BUILT_IN: Record<string, Printer> = {
  "apps/Deployment": {
    columns: [
      NAME,
      col("Ready"),
      col("Up-to-date", "integer"),
      col("Available", "integer"),
      AGE,
      col("Containers", "string", 1),
      col("Images", "string", 1),
      col("Selector", "string", 1),
    ],
    cells: (o) => {
      const spec = obj(o.spec);
      const status = obj(o.status);
      const containers = arr(obj(obj(spec.template).spec).containers).map(obj);
      return [
        nameOf(o),
        `${(status.readyReplicas as number | undefined) ?? 0}/${(spec.replicas as number | undefined) ?? 1}`,
        (status.updatedReplicas as number | undefined) ?? 0,
        (status.availableReplicas as number | undefined) ?? 0,
        ageOf(o),
        containers.map((c) => c.name).join(","),
        containers.map((c) => c.image).join(","),
        labelsText(obj(spec.selector).matchLabels),
      ];
    },
  },
  "/Pod": {
    columns: [
      NAME,
      col("Ready"),
      col("Status"),
      col("Restarts"),
      AGE,
      col("IP", "string", 1),
      col("Node", "string", 1),
      col("Nominated Node", "string", 1),
      col("Readiness Gates", "string", 1),
    ],
    cells: (o) => {
      const s = podStatus(o);
      const status = obj(o.status);
      return [
        nameOf(o),
        s.ready,
        s.status,
        s.restarts,
        ageOf(o),
        str(status.podIP),
        str(obj(o.spec).nodeName),
        str(status.nominatedNodeName),
        "<none>",
      ];
    },
  },
  "/Service": {
    columns: [
      NAME,
      col("Type"),
      col("Cluster-IP"),
      col("External-IP"),
      col("Port(s)"),
      AGE,
      col("Selector", "string", 1),
    ],
    cells: (o) => {
      const spec = obj(o.spec);
      const type = (spec.type as string | undefined) ?? "ClusterIP";
      const external = arr(spec.externalIPs).join(",");
      return [
        nameOf(o),
        type,
        str(spec.clusterIP),
        external || (type === "LoadBalancer" ? "<pending>" : "<none>"),
        servicePorts(spec),
        ageOf(o),
        labelsText(spec.selector),
      ];
    },
  },
  "/Event": {
    columns: [
      col("Last Seen"),
      col("Type"),
      col("Reason"),
      col("Object"),
      col("Subobject", "string", 1),
      col("Source", "string", 1),
      col("Message"),
      col("First Seen", "string", 1),
      col("Count", "integer", 1),
      { ...NAME, priority: 1 },
    ],
    cells: (e) => {
      const inv = obj(e.involvedObject);
      const count = (e.count as number | undefined) ?? 1;
      const last = eventTime(e, "lastTimestamp");
      const first = eventTime(e, "firstTimestamp");
      const source = obj(e.source);
      return [
        count > 1 ? `${last} (x${count} over ${first})` : last,
        (e.type as string | undefined) ?? "",
        (e.reason as string | undefined) ?? "",
        `${String(inv.kind ?? "").toLowerCase()}/${String(inv.name ?? "")}`,
        (inv.fieldPath as string | undefined) ?? "",
        [source.component, source.host].filter(Boolean).join(", ") ||
          ((e.reportingComponent as string | undefined) ?? ""),
        ((e.message as string | undefined) ?? "").trim(),
        first,
        count,
        nameOf(e),
      ];
    },
  },
  "events.k8s.io/Event": {
    columns: [
      col("Last Seen"),
      col("Type"),
      col("Reason"),
      col("Object"),
      col("Note"),
      { ...NAME, priority: 1 },
    ],
    cells: (e) => {
      const reg = obj(e.regarding);
      return [
        e.eventTime ? age(e.eventTime as string) : ageOf(e),
        (e.type as string | undefined) ?? "",
        (e.reason as string | undefined) ?? "",
        `${String(reg.kind ?? "").toLowerCase()}/${String(reg.name ?? "")}`,
        (e.note as string | undefined) ?? "",
        nameOf(e),
      ];
    },
  },
  "/ConfigMap": {
    columns: [NAME, col("Data", "integer"), AGE],
    cells: (o) => [
      nameOf(o),
      Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length,
      ageOf(o),
    ],
  },
  "/Secret": {
    columns: [NAME, col("Type"), col("Data", "integer"), AGE],
    cells: (o) => [
      nameOf(o),
      (o.type as string | undefined) ?? "Opaque",
      Object.keys(obj(o.data)).length,
      ageOf(o),
    ],
  },
  "/Namespace": {
    columns: [NAME, col("Status"), AGE],
    cells: (o) => [nameOf(o), (obj(o.status).phase as string | undefined) ?? "Active", ageOf(o)],
  },
  "coordination.k8s.io/Lease": {
    columns: [NAME, col("Holder"), AGE],
    cells: (o) => [nameOf(o), (obj(o.spec).holderIdentity as string | undefined) ?? "", ageOf(o)],
  },
  "/ServiceAccount": {
    columns: [NAME, col("Secrets", "integer"), AGE],
    cells: (o) => [nameOf(o), arr(o.secrets).length, ageOf(o)],
  },
  "rbac.authorization.k8s.io/Role": ROLE,
  "rbac.authorization.k8s.io/ClusterRole": ROLE,
  "rbac.authorization.k8s.io/RoleBinding": BINDING,
  "rbac.authorization.k8s.io/ClusterRoleBinding": BINDING,
  "policy/PodDisruptionBudget": {
    columns: [NAME, col("Min Available"), col("Max Unavailable"), col("Allowed Disruptions", "integer"), AGE],
    cells: (o) => {
      const spec = obj(o.spec);
      const n = (v: Json | undefined) => (v === undefined || v === null ? "N/A" : String(v));
      return [
        nameOf(o),
        n(spec.minAvailable),
        n(spec.maxUnavailable),
        (obj(o.status).disruptionsAllowed as number | undefined) ?? 0,
        ageOf(o),
      ];
    },
  },
};
