import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ProblemCode } from "@cellwallet/client";
import type { ProblemCode as ContractProblemCode } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";

/**
 * The client promises no runtime dependency beyond what Node ships (README). Its one dependency is
 * `@cellwallet/chain`, which has none and imports only node:crypto; the contract (jose, decimal.js) must stay
 * out of reach. Checked on the package.json files and the built package (`tsc -b` runs before the tests).
 */
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const ALLOWED_PACKAGE_IMPORTS = new Set(["@cellwallet/chain"]);
const FORBIDDEN = /jose|decimal\.js|canonicalize|node_modules/;

interface PackageJson {
  exports: Record<string, { default: string }>;
  dependencies?: Record<string, string>;
}

const packageJson = (pkgDir: string) =>
  JSON.parse(readFileSync(join(ROOT, pkgDir, "package.json"), "utf8")) as PackageJson;

function entryOf(pkgDir: string, subpath: string): string {
  const target = packageJson(pkgDir).exports[subpath]?.default;
  if (!target) throw new Error(`${pkgDir} exports no ${subpath}`);
  return join(ROOT, pkgDir, target);
}

const SPECIFIER =
  /(?:^|[\n;])\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|(?:^|[\n;])\s*import\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every file the client's entry reaches through its compiled imports, and every non-relative import seen. */
function importGraph(entry: string): { files: string[]; external: string[]; unanalysable: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const unanalysable: string[] = [];
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    // An import whose target is not a literal, or a require, could reach anything: refuse it outright.
    if (/\bimport\s*\(\s*[^"'\s)]/.test(text) || /\brequire\s*\(|createRequire/.test(text)) {
      unanalysable.push(relative(ROOT, file));
    }
    for (const m of text.matchAll(SPECIFIER)) {
      const specifier = (m[1] ?? m[2] ?? m[3]) as string;
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
      else {
        external.add(specifier);
        if (ALLOWED_PACKAGE_IMPORTS.has(specifier)) visit(entryOf("chain", "."));
      }
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), external: [...external].sort(), unanalysable };
}

describe("@cellwallet/client at runtime", () => {
  it("depends on @cellwallet/chain alone, which depends on nothing", () => {
    expect(packageJson("client").dependencies).toEqual({ "@cellwallet/chain": "0.1.0" });
    expect(packageJson("chain").dependencies).toBeUndefined();
    expect(Object.keys(packageJson("chain").exports)).toEqual(["."]);
  });

  it("declares its types without any package but @cellwallet/chain (ProblemCode is its own copy)", () => {
    const declarations = readdirSync(join(ROOT, "client/dist"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".d.ts"))
      .map((f) => readFileSync(join(ROOT, "client/dist", f), "utf8"));
    expect(declarations.length).toBeGreaterThan(5);
    const packages = declarations.flatMap((text) =>
      [...text.matchAll(SPECIFIER)]
        .map((m) => (m[1] ?? m[2] ?? m[3]) as string)
        .filter((specifier) => !specifier.startsWith(".")),
    );
    expect(packages.filter((s) => !s.startsWith("node:") && !ALLOWED_PACKAGE_IMPORTS.has(s))).toEqual([]);
    expect(packages).toContain("@cellwallet/chain");
    // Checked by the compiler (tsc -b compiles the tests): the copy and the contract's catalogue are one set.
    const sameCodes: [ProblemCode] extends [ContractProblemCode]
      ? [ContractProblemCode] extends [ProblemCode]
        ? true
        : false
      : false = true;
    expect(sameCodes).toBe(true);
  });

  it("reaches only its own modules, Node's built-ins and the dependency-free chain package", () => {
    const graph = importGraph(entryOf("client", "."));
    expect(graph.unanalysable).toEqual([]);
    expect(graph.external.filter((s) => !s.startsWith("node:") && !ALLOWED_PACKAGE_IMPORTS.has(s))).toEqual([]);
    expect(graph.files.filter((f) => !f.startsWith("client/dist/") && !f.startsWith("chain/dist/"))).toEqual([]);
    expect(graph.files).toEqual(
      expect.arrayContaining(["client/dist/verify-chain.js", "chain/dist/index.js", "chain/dist/jcs.js"]),
    );
  });

  it("loads in Node without resolving any package but the client and the chain package", async () => {
    // The real loader, not a reading of the sources: a resolve hook records every module Node resolves.
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
      const client = await import("@cellwallet/client");
      if (typeof client.verifyEntries !== "function" || typeof client.CellwalletClient !== "function") process.exit(3);
      process.stdout.write(JSON.stringify(seen));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      timeout: 60_000,
    });
    const urls = JSON.parse(stdout) as string[];
    const files = urls.filter((u) => u.startsWith("file:")).map((u) => relative(ROOT, fileURLToPath(u)));
    expect(files).toContain("client/dist/index.js");
    expect(files).toContain("chain/dist/hash-chain.js");
    expect(urls.filter((u) => !u.startsWith("file:") && !u.startsWith("node:"))).toEqual([]);
    expect(files.filter((f) => FORBIDDEN.test(f) || !/^(client|chain)\/dist\//.test(f))).toEqual([]);
  }, 90_000);
});
