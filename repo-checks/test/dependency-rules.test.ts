import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The architecture's dependency rules, checked on the import statements of every source file (a small
 * import graph, no tool): the domain imports no adapter, framework or SDK; application code reaches
 * adapters only through its ports; cells never import the router or the control plane; the router knows
 * cells only through the contract and HTTP and reaches placement only through its package, never the control
 * plane; placement imports no cell, router or control plane; the chain package imports nothing but Node's built-ins;
 * no relative import leaves its package; no import cycles.
 */
const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const PACKAGES = [
  "chain",
  "contract",
  "placement",
  "cell-service",
  "control-plane",
  "cell-router",
  "loadtest",
  "client",
  "infra/cdk8s",
  "infra/aws",
];

interface SourceFile {
  path: string; // relative to the repo root
  imports: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    return statSync(full).isDirectory() ? walk(full) : full.endsWith(".ts") ? [full] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push((m[1] ?? m[2] ?? m[3]) as string);
  return found;
}

const sources: SourceFile[] = PACKAGES.flatMap((pkg) =>
  walk(join(ROOT, pkg, "src"))
    .filter((f) => !f.endsWith(".test.ts"))
    .map((f) => ({ path: relative(ROOT, f), imports: importsOf(readFileSync(f, "utf8")) })),
);

function violations(
  under: string,
  forbidden: (specifier: string, file: SourceFile) => boolean,
): { file: string; import: string }[] {
  return sources
    .filter((s) => s.path.startsWith(under))
    .flatMap((s) => s.imports.filter((i) => forbidden(i, s)).map((i) => ({ file: s.path, import: i })));
}

const resolvesInto = (file: SourceFile, specifier: string, folder: string) =>
  specifier.startsWith(".") && relative(ROOT, resolve(ROOT, dirname(file.path), specifier)).startsWith(folder);

describe("dependency rules", () => {
  it("reads the sources", () => {
    expect(sources.length).toBeGreaterThan(150);
    expect(sources.find((s) => s.path === "cell-router/src/app.ts")?.imports).toContain("@cellwallet/contract");
  });

  it("the cell's domain imports only its own modules, the contract and pure libraries", () => {
    const allowed = new Set(["@cellwallet/contract", "node:crypto", "decimal.js"]);
    expect(violations("cell-service/src/domain/", (i) => !i.startsWith("./") && !allowed.has(i))).toEqual([]);
  });

  it("the cell's application layer reaches adapters only through its ports", () => {
    const sdk = /^(@aws-sdk\/|better-sqlite3|hono|@hono\/|undici|zod)/;
    expect(
      violations(
        "cell-service/src/application/",
        (i, f) => sdk.test(i) || resolvesInto(f, i, "cell-service/src/adapters"),
      ),
    ).toEqual([]);
  });

  it("the chain package (the client's one dependency) imports only its own modules and Node's built-ins", () => {
    expect(violations("chain/src/", (i) => !i.startsWith("./") && !i.startsWith("node:"))).toEqual([]);
    expect(sources.filter((s) => s.path.startsWith("chain/src/")).map((s) => s.path)).toContain(
      "chain/src/hash-chain.ts",
    );
    const chain = JSON.parse(readFileSync(join(ROOT, "chain/package.json"), "utf8")) as Record<string, unknown>;
    expect(chain.dependencies).toBeUndefined();
  });

  it("the contract depends on no other package of the repo but the chain", () => {
    expect(violations("contract/src/", (i) => i.startsWith("@cellwallet/") && i !== "@cellwallet/chain")).toEqual([]);
  });

  it("cells never import the router or the control plane", () => {
    expect(
      violations("cell-service/src/", (i) => /^@cellwallet\/(cell-router|control-plane|loadtest)/.test(i)),
    ).toEqual([]);
  });

  it("the router knows cells only through the contract and HTTP, and placement only through its package", () => {
    expect(
      violations("cell-router/src/", (i) => /^@cellwallet\/(cell-service|control-plane|loadtest)(\/|$)/.test(i)),
    ).toEqual([]);
    const router = JSON.parse(readFileSync(join(ROOT, "cell-router/package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(router.dependencies)).toContain("@cellwallet/placement");
    expect(Object.keys(router.dependencies)).not.toContain("@cellwallet/control-plane");
  });

  it("placement imports no cell, router or control plane (the router and the control plane both use it)", () => {
    expect(
      violations("placement/src/", (i) =>
        /^@cellwallet\/(cell-service|cell-router|control-plane|loadtest)(\/|$)/.test(i),
      ),
    ).toEqual([]);
  });

  it("no relative import leaves its package (packages use each other by name)", () => {
    const crossing = sources.flatMap((s) => {
      const pkg = PACKAGES.find((p) => s.path.startsWith(`${p}/`)) as string;
      return s.imports
        .filter((i) => i.startsWith(".") && !relative(ROOT, resolve(ROOT, dirname(s.path), i)).startsWith(`${pkg}/`))
        .map((i) => ({ file: s.path, import: i }));
    });
    expect(crossing).toEqual([]);
  });

  it("the infrastructure builds the tables from the stores' own table definitions (cells, placement)", () => {
    const infra = sources.filter((s) => s.path.startsWith("infra/aws/src/"));
    expect(infra.some((s) => s.imports.includes("@cellwallet/cell-service"))).toBe(true);
    expect(infra.some((s) => s.imports.includes("@cellwallet/placement"))).toBe(true);
  });

  it("has no import cycles (type-only imports included)", () => {
    const graph = new Map<string, string[]>();
    for (const s of sources) {
      graph.set(
        s.path,
        s.imports
          .filter((i) => i.startsWith("."))
          .map((i) => relative(ROOT, resolve(ROOT, dirname(s.path), i)).replace(/\.js$/, ".ts")),
      );
    }
    const cycles: string[][] = [];
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
      state.set(node, "visiting");
      stack.push(node);
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === "visiting") cycles.push([...stack.slice(stack.indexOf(next)), next]);
        else if (!state.has(next) && graph.has(next)) visit(next);
      }
      stack.pop();
      state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    expect(cycles).toEqual([]);
  });
});

describe("the repo is self-contained", () => {
  it("no source or document refers to files outside the repo", () => {
    const files = [
      ...sources.map((s) => join(ROOT, s.path)),
      ...walk(join(ROOT, "docs")),
      ...readdirSync(join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => join(ROOT, "docs", f)),
      ...readdirSync(join(ROOT, "runbooks")).map((f) => join(ROOT, "runbooks", f)),
      join(ROOT, "README.md"),
    ];
    const outside = files.filter((f) => /\.\.\/shared\/|CONVENTIONS\.md/.test(readFileSync(f, "utf8")));
    expect(outside.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
