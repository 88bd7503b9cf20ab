/**
 * A readable field-by-field diff of two Kubernetes objects, for the kubernetes driver's dry run. Pure.
 * Objects are flattened to `path: value` leaves; lists whose items all have a `name` (containers, env,
 * ports, volumes) are keyed by it (`containers[name=app].env[name=AZ].value`), so a change in one env
 * variable reads as that change and not as a shift of every item after it. What the API server alone
 * writes (managedFields, resourceVersion, status, the revision annotation...) is left out.
 */

export type DiffLine =
  | { op: "~"; path: string; before: string; after: string }
  | { op: "+"; path: string; after: string }
  | { op: "-"; path: string; before: string };

const SERVER_METADATA = ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"];
const SERVER_ANNOTATIONS = ["deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"];

/** A copy without what the API server writes on its own (for live objects and dry-run answers). */
export function withoutServerFields<T>(object: T): T {
  const copy = structuredClone(object) as { metadata?: Record<string, unknown>; status?: unknown };
  delete copy.status;
  if (copy.metadata) {
    for (const key of SERVER_METADATA) delete copy.metadata[key];
    const annotations = copy.metadata.annotations as Record<string, string> | undefined;
    if (annotations) {
      for (const key of SERVER_ANNOTATIONS) delete annotations[key];
      if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
    }
  }
  return copy as T;
}

function segment(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Leaves of a JSON value in document order: path → JSON text of the value. */
export function flatten(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, "[]");
    const named = value.every(
      (item) => typeof item === "object" && item !== null && typeof (item as { name?: unknown }).name === "string",
    );
    const names = named ? value.map((item) => (item as { name: string }).name) : [];
    const keyed = named && new Set(names).size === names.length;
    value.forEach((item, index) => {
      flatten(item, `${path}[${keyed ? `name=${names[index]}` : index}]`, out);
    });
  } else if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    // an empty object is a leaf, except the root: nothing at all is not a field
    if (entries.length === 0 && path !== "") out.set(path, "{}");
    for (const [key, child] of entries) flatten(child, `${path}${segment(key)}`, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

function strip(path: string): string {
  return path.startsWith(".") ? path.slice(1) : path;
}

/** What changes from `before` to `after`, in `after`'s field order, removed fields last. */
export function diffObjects(before: unknown, after: unknown): DiffLine[] {
  const a = flatten(before);
  const b = flatten(after);
  const lines: DiffLine[] = [];
  for (const [path, value] of b) {
    const old = a.get(path);
    if (old === undefined) lines.push({ op: "+", path: strip(path), after: value });
    else if (old !== value) lines.push({ op: "~", path: strip(path), before: old, after: value });
  }
  for (const [path, value] of a) if (!b.has(path)) lines.push({ op: "-", path: strip(path), before: value });
  return lines;
}

export function formatDiffLine(line: DiffLine): string {
  switch (line.op) {
    case "~":
      return `~ ${line.path}: ${line.before} -> ${line.after}`;
    case "+":
      return `+ ${line.path}: ${line.after}`;
    case "-":
      return `- ${line.path}: ${line.before}`;
  }
}
