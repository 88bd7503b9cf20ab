/**
 * `node loadtest/dist/profile-top.js <file.cpuprofile> [--top n] [--by function|package]`: the hottest
 * frames of a V8 CPU profile (`node --cpu-prof`) by self time, as a Markdown table, so a profile can be
 * read (and recorded in docs/benchmarks.md) without a browser. `--by package` sums self time per
 * node_modules package (or "node:internal", "(program)", "(garbage collector)", "app: <workspace>").
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node:internal";
  const workspace = /\/(contract|cell-service|cell-router|telemetry|store-support|control-plane|loadtest)\//.exec(url);
  return workspace ? `app: ${workspace[1]}` : url;
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "25" }, by: { type: "string", default: "function" } },
  });
  const file = positionals[0];
  if (!file) {
    console.error("usage: profile-top <file.cpuprofile> [--top n] [--by function|package]");
    return 2;
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    const key =
      values.by === "package"
        ? packageOf(url, name)
        : `${name} ${url ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(?=[^/]+\/(src|dist)\/)/, "")}:${lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
  console.log("| self % | self ms | frame |\n|---:|---:|---|");
  for (const [key, us] of top)
    console.log(`| ${((100 * us) / total).toFixed(1)} | ${(us / 1000).toFixed(0)} | ${key} |`);
  return 0;
}

process.exitCode = main();
