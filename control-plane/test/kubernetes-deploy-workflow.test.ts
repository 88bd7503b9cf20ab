/**
 * The CI workflow that deploys by waves (.github/workflows/deploy.yml and its reusable wave,
 * rollout-wave.yml): valid for actionlint (installed into .tools/bin by scripts/setup-test-tools.mjs), shaped
 * as documented (a dry-run plan, then gated waves in order, an alarm failing the job), and its shell that
 * synthesizes the releases the cluster runs now, run with bash against a stand-in `kubectl` and the real
 * synth process.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePlan } from "../src/rollout/rollout-plan.js";
import { deploymentOf, type Json } from "./kubernetes-synth.js";

const root = new URL("../..", import.meta.url).pathname;
const actionlint = join(root, ".tools", "bin", "actionlint");
// actionlint runs shellcheck on every `run:` script (installed into .venv by scripts/setup-test-tools.mjs)
const shellcheck = join(root, ".venv", "bin", "shellcheck");
const lint = (...files: string[]) =>
  spawnSync(
    actionlint,
    ["-color=false", "-config-file", join(root, ".github", "actionlint.yaml"), "-shellcheck", shellcheck, ...files],
    { cwd: root, encoding: "utf8" },
  );
const workflows = join(root, ".github", "workflows");
const deploy: Json = parse(readFileSync(join(workflows, "deploy.yml"), "utf8"));
const wave: Json = parse(readFileSync(join(workflows, "rollout-wave.yml"), "utf8"));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cellwallet-deploy-workflow-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A GitHub Actions expression as it is written in a workflow. */
const gha = (inner: string) => `\${{ ${inner} }}`;

const stepNamed = (steps: Json[], name: string): Json => {
  const found = steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};

describe("the deploy workflow", () => {
  it("passes actionlint and shellcheck (expressions, job graph, reusable workflow inputs, runner labels, scripts)", () => {
    const run = lint();
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("actionlint is not vacuous: it rejects a broken copy, shell mistakes included", () => {
    const broken = join(dir, "broken.yml");
    writeFileSync(
      broken,
      readFileSync(join(workflows, "deploy.yml"), "utf8")
        .replace("needs: canary", "needs: canaryy")
        .replace(gha("inputs.version || github.ref_name"), gha("inputs.versoin || github.ref_name"))
        .replace('node infra/cdk8s/dist/main.js --version "$VERSION" --cell-image "$IMAGE"', "cd $HOME/x; ls *.yaml"),
    );
    const run = lint(broken);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/canaryy/);
    expect(run.stdout).toMatch(/versoin/);
    expect(run.stdout).toMatch(/shellcheck reported issue in this script: SC2086/);
  });

  it("rolls out by the checked-in plan, which the rollout accepts once the workflow adds the version", () => {
    const input = JSON.parse(readFileSync(join(root, ".github", "rollout-plan.json"), "utf8"));
    const azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    const parsed = parsePlan(
      { ...input, version: "v2" },
      new Map([
        ["cell-1", azs],
        ["cell-2", azs],
      ]),
    );
    expect(parsed.ok && parsed.plan).toMatchObject({
      version: "v2",
      manualGates: true,
      waves: [["cell-1"], ["cell-2"]],
    });
    expect(stepNamed(deploy.jobs.release.steps, "Rollout plan (dry run)").run).toContain(
      `jq --arg version "$VERSION" '.version = $version' .github/rollout-plan.json > release/plan.json`,
    );
  });

  it("runs on a release tag or by hand with a version, one rollout at a time", () => {
    expect(deploy.on.push.tags).toEqual(["v*"]);
    expect(deploy.on.workflow_dispatch.inputs.version).toMatchObject({ required: true, type: "string" });
    expect(deploy.concurrency).toEqual({ group: "deploy-production", "cancel-in-progress": false });
  });

  it("builds and pushes the image, synthesizes the release pinned by digest, and prints the rollout's dry run", () => {
    const build = deploy.jobs.build;
    const push = build.steps.find((s: Json) => String(s.uses).startsWith("docker/build-push-action"));
    expect(push.with).toMatchObject({ file: "infra/docker/cell-service.Dockerfile", push: true });
    expect(build.outputs.image).toContain(`@${gha("steps.image.outputs.digest")}`);
    expect(deploy.jobs.release.needs).toBe("build");
    const steps: Json[] = deploy.jobs.release.steps;
    const synth = stepNamed(steps, "Synthesize the release, pinned by digest");
    expect(synth.run).toContain('node infra/cdk8s/dist/main.js --version "$VERSION" --cell-image "$IMAGE"');
    expect(synth.env.IMAGE).toBe(gha("needs.build.outputs.image"));
    const plan = stepNamed(steps, "Rollout plan (dry run)").run as string;
    expect(plan).toMatch(/cellctl rollout plan .*--driver kubernetes --manifests "\$CDK8S_OUTDIR"/s);
    expect(plan).toContain("| tee release/plan.txt"); // bash -o pipefail: a failing plan fails the step
    expect(plan).toContain("$GITHUB_STEP_SUMMARY");
    // what the waves apply is exactly what was planned: the synthesized release travels as an artifact
    expect(steps.at(-1).uses).toMatch(/^actions\/upload-artifact@/);
  });

  it("deploys wave by wave, each behind its own environment (manual gate), canary first", () => {
    const chain = ["canary", "wave-2", "wave-3", "rest"];
    let previous = "release";
    const environments: string[] = [];
    for (const name of chain) {
      const job = deploy.jobs[name];
      expect(job.needs, name).toBe(previous);
      expect(job.uses).toBe("./.github/workflows/rollout-wave.yml");
      environments.push(job.with.environment);
      previous = name;
    }
    expect(new Set(environments).size).toBe(chain.length);
    expect(deploy.jobs.canary.with.command).toBe("start");
    for (const name of chain.slice(1)) expect(deploy.jobs[name].with.command).toBe("resume");
    expect(deploy.jobs.rest.with["until-complete"]).toBe(true);
    expect(wave.jobs.wave.environment).toBe(gha("inputs.environment"));
    const rollout = stepNamed(wave.jobs.wave.steps, "Roll out").run as string;
    expect(rollout).toContain(
      "cellctl rollout start --plan release/plan.json --driver kubernetes --manifests release/manifests",
    );
    expect(rollout).toContain('cellctl rollout resume "$id"');
    expect(deploy.defaults.run.shell).toBe("bash");
    expect(wave.defaults.run.shell).toBe("bash");
  });

  it("synthesizes the releases the cluster runs now, so that a rollback applies them (bash, stand-in kubectl)", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    // what `kubectl get deployments -o jsonpath=...` prints: labelled releases, and an older unlabelled one
    writeFileSync(
      join(bin, "kubectl"),
      `#!/bin/sh
echo "$*" >> "${join(dir, "kubectl-args")}"
printf 'v1 registry.example/cell-service@sha256:1111\\nv1 registry.example/cell-service@sha256:1111\\nv2 registry.example/cell-service:v2\\n registry.example:5000/cell-service:0.1.0\\n registry.example/cell-service@sha256:2222\\n'
`,
    );
    writeFileSync(join(bin, "aws"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(bin, "kubectl"), 0o755);
    chmodSync(join(bin, "aws"), 0o755);
    const script = stepNamed(
      deploy.jobs.release.steps,
      "Synthesize the releases the cluster runs now (what a rollback applies)",
    ).run as string;
    const outdir = join(dir, "manifests");
    const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd: root,
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        VERSION: "v2",
        NAMESPACE: "cellwallet",
        AWS_REGION: "eu-west-1",
        EKS_CLUSTER: "test",
        CDK8S_OUTDIR: outdir,
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(dir, "kubectl-args"), "utf8")).toContain(
      "-n cellwallet get deployments -l app.kubernetes.io/component=cell",
    );
    // v2 is the release being deployed (synthesized by the step before); v1 pinned by its live digest;
    // 0.1.0 from the tag of an unlabelled Deployment; a digest without a label names nothing: a warning
    const image = (version: string) =>
      deploymentOf(join(outdir, version), "cell-1", "eu-west-1b").spec.template.spec.containers[0].image;
    expect(image("v1")).toBe("registry.example/cell-service@sha256:1111");
    expect(image("0.1.0")).toBe("registry.example:5000/cell-service:0.1.0");
    expect(() => deploymentOf(join(outdir, "v2"), "cell-1", "eu-west-1b")).toThrow();
    expect(run.stdout).toContain(
      "::warning::a cell runs registry.example/cell-service@sha256:2222, which names no release",
    );
    expect(run.stdout.match(/live release v1 /g)).toHaveLength(1);
  });

  describe("a wave's script (bash, stand-in cellctl answering as cellctl rollout does)", () => {
    const script = () => stepNamed(wave.jobs.wave.steps, "Roll out").run as string;
    // cellctl: `status --json` prints the stored rollout; start/resume consume the next "<exit> <status>"
    const STUB = `#!/bin/bash
echo "$*" >> "$STUB/calls"
if [ "$2" = status ]; then
  printf '{"rolloutId":"ro-1","plan":{"version":"%s"},"status":"%s"}\\n' "$(cat "$STUB/version")" "$(cat "$STUB/status")"
  exit 0
fi
if [ "$2" = start ] || [ "$2" = resume ]; then
  read -r code status < "$STUB/outcomes"; sed -i 1d "$STUB/outcomes"
  echo "$status" > "$STUB/status"; exit "$code"
fi
exit 3
`;
    function runWave(
      command: "start" | "resume",
      world: { status?: string; version?: string; outcomes: string[] },
      untilComplete = false,
    ) {
      const stub = mkdtempSync(join(dir, "wave-"));
      mkdirSync(join(stub, "bin"));
      writeFileSync(join(stub, "bin", "cellctl"), STUB);
      chmodSync(join(stub, "bin", "cellctl"), 0o755);
      writeFileSync(join(stub, "status"), world.status ?? "none");
      writeFileSync(join(stub, "version"), world.version ?? "v2");
      writeFileSync(join(stub, "outcomes"), world.outcomes.map((o) => `${o}\n`).join(""));
      writeFileSync(join(stub, "calls"), "");
      const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script()], {
        encoding: "utf8",
        env: {
          PATH: `${join(stub, "bin")}:${process.env.PATH}`,
          STUB: stub,
          VERSION: "v2",
          NAMESPACE: "cellwallet",
          COMMAND: command,
          UNTIL_COMPLETE: String(untilComplete),
        },
      });
      const calls = readFileSync(join(stub, "calls"), "utf8")
        .trim()
        .split("\n")
        .filter((c) => !c.startsWith("rollout status"));
      return { code: run.status, out: run.stdout + run.stderr, calls };
    }

    it("canary: starts the rollout and succeeds when it stops at the next gate", () => {
      const r = runWave("start", { outcomes: ["0 waiting-gate"] });
      expect(r.code, r.out).toBe(0);
      expect(r.calls).toEqual([
        "rollout start --plan release/plan.json --driver kubernetes --manifests release/manifests --namespace cellwallet --yes",
      ]);
    });

    it("an alarm (cellctl exits 1, the step rolled back, the rollout aborted) fails the job", () => {
      const r = runWave("start", { outcomes: ["1 rolled-back"] });
      expect(r.code).toBe(1);
      const resumed = runWave("resume", { status: "waiting-gate", outcomes: ["1 rolled-back"] });
      expect(resumed.code).toBe(1);
      expect(resumed.calls).toEqual(["rollout resume ro-1"]);
    });

    it("a wave resumes this release's rollout once, past its gate", () => {
      const r = runWave("resume", { status: "waiting-gate", outcomes: ["0 waiting-gate", "0 completed"] });
      expect(r.code, r.out).toBe(0);
      expect(r.calls).toEqual(["rollout resume ro-1"]);
    });

    it("the last job resumes through every remaining gate until the rollout completes", () => {
      const r = runWave("resume", { status: "waiting-gate", outcomes: ["0 waiting-gate", "0 completed"] }, true);
      expect(r.code, r.out).toBe(0);
      expect(r.calls).toEqual(["rollout resume ro-1", "rollout resume ro-1"]);
      expect(r.out).toContain("rollout ro-1 of v2: completed");
    });

    it("does nothing when the rollout already completed (a plan with fewer waves)", () => {
      const r = runWave("resume", { status: "completed", outcomes: [] });
      expect(r.code, r.out).toBe(0);
      expect(r.calls).toEqual([]);
    });

    it("never resumes another release's rollout, nor an aborted one", () => {
      const other = runWave("resume", { status: "waiting-gate", version: "v1", outcomes: ["0 completed"] });
      expect(other.code).toBe(1);
      expect(other.out).toContain("not this release's, or not resumable");
      expect(other.calls).toEqual([]);
      const aborted = runWave("resume", { status: "aborted", outcomes: ["0 completed"] });
      expect(aborted.code).toBe(1);
      expect(aborted.calls).toEqual([]);
    });
  });

  it("calls cellctl only with options the real `cellctl rollout <verb> --help` lists", () => {
    const scripts = [
      ...deploy.jobs.release.steps.map((step: Json) => step.run ?? ""),
      ...wave.jobs.wave.steps.map((step: Json) => step.run ?? ""),
    ]
      .join("\n")
      .replace(/\\\n\s*/g, " ");
    const calls = [...scripts.matchAll(/cellctl rollout (\w+)([^|;\n]*)/g)];
    expect(calls.map((c) => c[1]).sort()).toEqual(["pause", "plan", "resume", "start", "status", "status"]);
    for (const [, verb, rest] of calls) {
      const help = spawnSync(
        process.execPath,
        [join(root, "control-plane/bin/cellctl.js"), "rollout", verb as string, "--help"],
        {
          encoding: "utf8",
          env: { PATH: process.env.PATH ?? "", HOME: dir },
        },
      );
      expect(help.status, help.stderr).toBe(0);
      for (const option of (rest ?? "").match(/--[a-z-]+/g) ?? []) {
        expect(help.stdout, `cellctl rollout ${verb} ${option}`).toContain(option);
      }
    }
  });
});
