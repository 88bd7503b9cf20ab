import { describe, expect, it } from "vitest";
import {
  CELL_PORT,
  cellRegistryEndpoints,
  cellWorkloadName,
  DEFAULT_PLATFORM,
  type Manifest,
  type PlatformConfig,
  platformManifests,
  replicasPerAz,
  synthCellDeployment,
  ZONE_LABEL,
} from "../src/index.js";

const config: PlatformConfig = {
  ...DEFAULT_PLATFORM,
  azs: ["az-a", "az-b", "az-c"],
  cells: [
    { cellId: "cell-1", requiredReplicas: 6, roleArn: "arn:aws:iam::111111111111:role/c1" },
    { cellId: "blue", requiredReplicas: 3, roleArn: "arn:aws:iam::111111111111:role/blue" },
  ],
};
const manifests = platformManifests(config);
const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
// biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON
const spec = (m: Manifest) => m.spec as any;
const labelsOf = (m: Manifest) => (m.metadata.labels ?? {}) as Record<string, string>;

describe("static-stability replica rule", () => {
  it("sizes each AZ so the surviving AZs carry the required replicas", () => {
    expect(replicasPerAz({ requiredReplicas: 6, azCount: 3 })).toBe(3);
    expect(replicasPerAz({ requiredReplicas: 7, azCount: 3 })).toBe(4);
    expect(replicasPerAz({ requiredReplicas: 10, azCount: 4 })).toBe(4);
    expect(replicasPerAz({ requiredReplicas: 6, azCount: 3, tolerateAzLoss: 0 })).toBe(2);
    expect(replicasPerAz({ requiredReplicas: 9, azCount: 5, tolerateAzLoss: 2 })).toBe(3);
  });
  it("never puts fewer than the floor in an AZ", () => {
    expect(replicasPerAz({ requiredReplicas: 1, azCount: 3 })).toBe(2);
    expect(replicasPerAz({ requiredReplicas: 1, azCount: 3, minPerAz: 1 })).toBe(1);
  });
  it("holds for every size: after losing any tolerated AZs the rest still carry the load", () => {
    for (let azCount = 2; azCount <= 6; azCount++) {
      for (let tolerate = 0; tolerate < azCount; tolerate++) {
        for (let required = 1; required <= 40; required++) {
          const perAz = replicasPerAz({ requiredReplicas: required, azCount, tolerateAzLoss: tolerate, minPerAz: 1 });
          expect(perAz * (azCount - tolerate)).toBeGreaterThanOrEqual(required);
          // and not one replica per AZ more than needed
          expect((perAz - 1) * (azCount - tolerate)).toBeLessThan(required);
        }
      }
    }
  });
  it("refuses a rule no AZ layout can meet", () => {
    expect(() => replicasPerAz({ requiredReplicas: 3, azCount: 1 })).toThrow(/no AZ would be left/);
    expect(() => replicasPerAz({ requiredReplicas: 0, azCount: 3 })).toThrow(/at least 1/);
    expect(() => replicasPerAz({ requiredReplicas: 2.5, azCount: 3 })).toThrow(/integer/);
  });
});

describe("Cell", () => {
  it("has exactly one Deployment per AZ per cell, each pinned to its zone", () => {
    const cellDeployments = ofKind("Deployment").filter((d) => labelsOf(d)["app.kubernetes.io/component"] === "cell");
    expect(cellDeployments).toHaveLength(config.cells.length * config.azs.length);
    for (const cell of config.cells) {
      for (const az of config.azs) {
        const matching = cellDeployments.filter((d) => d.metadata.name === cellWorkloadName(cell.cellId, az));
        expect(matching).toHaveLength(1);
        const d = matching[0] as Manifest;
        const terms = spec(d).template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
        expect(terms.nodeSelectorTerms).toEqual([
          { matchExpressions: [{ key: ZONE_LABEL, operator: "In", values: [az] }] },
        ]);
        expect(spec(d).selector.matchLabels).toMatchObject({
          "cellwallet.io/cell": cell.cellId,
          "cellwallet.io/az": az,
        });
        expect(spec(d).template.spec.containers[0].env).toContainEqual({ name: "AZ", value: az });
      }
    }
  });

  it("sizes replicas with the static-stability rule", () => {
    const d = synthCellDeployment(config, "cell-1", "az-b");
    expect(spec(d).replicas).toBe(3); // ceil(6 / (3 - 1))
    expect(spec(synthCellDeployment(config, "blue", "az-a")).replicas).toBe(2); // max(2, ceil(3 / 2))
  });

  it("has a PodDisruptionBudget and a Service per AZ selecting exactly that AZ's pods", () => {
    for (const cell of config.cells) {
      for (const az of config.azs) {
        const name = cellWorkloadName(cell.cellId, az);
        const pdbs = ofKind("PodDisruptionBudget").filter((p) => p.metadata.name === name);
        expect(pdbs).toHaveLength(1);
        const deployment = ofKind("Deployment").find((d) => d.metadata.name === name) as Manifest;
        expect(spec(pdbs[0] as Manifest).selector.matchLabels).toEqual(spec(deployment).selector.matchLabels);
        expect(spec(pdbs[0] as Manifest).maxUnavailable).toBe(1);
        const service = ofKind("Service").find((s) => s.metadata.name === name) as Manifest;
        expect(spec(service).selector).toEqual(spec(deployment).selector.matchLabels);
        expect(spec(service).ports[0].targetPort).toBe(CELL_PORT);
      }
    }
  });

  it("runs hardened: non-root, read-only root, no escalation, no capabilities, seccomp", () => {
    for (const d of ofKind("Deployment")) {
      const pod = spec(d).template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources.requests.cpu).toBeDefined();
        expect(c.resources.requests.memory).toBeDefined();
        expect(c.resources.limits.cpu).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
  });

  it("probes /health for liveness and /ready for readiness", () => {
    const c = spec(synthCellDeployment(config, "cell-1", "az-a")).template.spec.containers[0];
    expect(c.livenessProbe.httpGet).toMatchObject({ path: "/health", port: CELL_PORT });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: "/ready", port: CELL_PORT });
  });

  it("takes config from its ConfigMap and secrets from the Secret, never inline", () => {
    const c = spec(synthCellDeployment(config, "cell-1", "az-a")).template.spec.containers[0];
    expect(c.envFrom).toEqual([{ configMapRef: { name: "cellwallet-cell-1-config" } }]);
    const secretEnv = c.env.filter((e: { valueFrom?: unknown }) => e.valueFrom);
    expect(secretEnv.map((e: { name: string }) => e.name).sort()).toEqual([
      "CELL_INTERNAL_SECRET",
      "CHECKPOINT_SIGNING_KEY",
      "WALLET_JWT_SECRET",
    ]);
    for (const e of secretEnv) expect(e.valueFrom.secretKeyRef.name).toBe(config.secretName);
    const configMap = ofKind("ConfigMap").find((m) => m.metadata.name === "cellwallet-cell-1-config") as Manifest;
    expect(configMap.data).toMatchObject({
      CELL_ID: "cell-1",
      WALLET_STORE: "dynamodb",
      WALLET_CREATE_TABLES: "false",
    });
    expect(JSON.stringify(configMap.data)).not.toMatch(/SECRET/);
  });

  it("uses a ServiceAccount with the cell's IRSA role", () => {
    const d = synthCellDeployment(config, "blue", "az-c");
    const accountName = spec(d).template.spec.serviceAccountName;
    const account = ofKind("ServiceAccount").find((a) => a.metadata.name === accountName) as Manifest;
    expect(account.metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::111111111111:role/blue",
    });
  });

  it("admits ingress only from router pods (and the verify job, the metrics scraper's namespace), on the cell port", () => {
    const policy = ofKind("NetworkPolicy").find((p) => p.metadata.name === "cellwallet-cell-1-ingress") as Manifest;
    expect(spec(policy).podSelector.matchLabels["cellwallet.io/cell"]).toBe("cell-1");
    const routers = {
      podSelector: {
        matchLabels: { "app.kubernetes.io/part-of": "cellwallet", "app.kubernetes.io/component": "router" },
      },
    };
    const scraper = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "amazon-cloudwatch" } } };
    const verifyJob = {
      podSelector: {
        matchLabels: { "app.kubernetes.io/part-of": "cellwallet", "app.kubernetes.io/component": "operator-job" },
      },
    };
    expect(spec(policy).ingress).toEqual([
      { from: [routers, verifyJob, scraper], ports: [{ protocol: "TCP", port: CELL_PORT }] },
    ]);
    const strict = platformManifests({ ...config, metricsNamespace: undefined, controlPlaneImage: undefined }).find(
      (p) => p.kind === "NetworkPolicy" && p.metadata.name === "cellwallet-cell-1-ingress",
    ) as Manifest;
    expect(spec(strict).ingress).toEqual([{ from: [routers], ports: [{ protocol: "TCP", port: CELL_PORT }] }]);
    const deny = ofKind("NetworkPolicy").find((p) => p.metadata.name === "default-deny-ingress") as Manifest;
    expect(spec(deny)).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });

  it("synthCellDeployment returns the same Deployment npm run synth writes, with an image override", () => {
    const full = ofKind("Deployment").find((d) => d.metadata.name === cellWorkloadName("cell-1", "az-b"));
    expect(synthCellDeployment(config, "cell-1", "az-b")).toEqual(full);
    const canary = synthCellDeployment(config, "cell-1", "az-b", { image: "registry/cell-service@sha256:abc" });
    expect(spec(canary).template.spec.containers[0].image).toBe("registry/cell-service@sha256:abc");
    // pinned by digest: the image-tag finding is no longer accepted
    expect(JSON.stringify(canary.metadata.annotations)).not.toContain("CKV_K8S_43");
    expect(JSON.stringify(full?.metadata.annotations)).toContain("CKV_K8S_43");
    expect(() => synthCellDeployment(config, "cell-1", "az-z")).toThrow(/not one of the platform's/);
    expect(() => synthCellDeployment(config, "nope", "az-a")).toThrow(/no cell nope/);
  });
});

describe("Router", () => {
  it("has one zone-pinned Deployment and one topology-aware LoadBalancer Service per AZ", () => {
    for (const az of config.azs) {
      const name = `router-${az}`;
      const deployment = ofKind("Deployment").find((d) => d.metadata.name === name) as Manifest;
      const terms = spec(deployment).template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
      expect(terms.nodeSelectorTerms[0].matchExpressions[0]).toEqual({ key: ZONE_LABEL, operator: "In", values: [az] });
      const service = ofKind("Service").find((s) => s.metadata.name === name) as Manifest;
      expect(spec(service).type).toBe("LoadBalancer");
      expect(spec(service).trafficDistribution).toBe("PreferClose");
      expect((service.metadata.annotations as Record<string, string>)["service.kubernetes.io/topology-mode"]).toBe(
        "Auto",
      );
      expect(spec(service).selector).toEqual(spec(deployment).selector.matchLabels);
      expect(spec(service).ports).toEqual([{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }]);
      expect(ofKind("PodDisruptionBudget").some((p) => p.metadata.name === name)).toBe(true);
    }
    expect(ofKind("Deployment").filter((d) => labelsOf(d)["app.kubernetes.io/component"] === "router")).toHaveLength(3);
  });

  it("points each cell's cross-cell calls at the router of its own AZ", () => {
    const c = spec(synthCellDeployment(config, "cell-1", "az-c")).template.spec.containers[0];
    expect(c.env).toContainEqual({
      name: "ROUTER_INTERNAL_URL",
      value: `http://router-az-c.${config.namespace}.svc.cluster.local:80`,
    });
  });
});

describe("control plane jobs", () => {
  it("runs cellctl verify --all nightly as a hardened CronJob, with the operator's IRSA account", () => {
    const cronJobs = ofKind("CronJob");
    expect(cronJobs).toHaveLength(1);
    const job = spec(cronJobs[0] as Manifest);
    expect(job.concurrencyPolicy).toBe("Forbid");
    const pod = job.jobTemplate.spec.template.spec;
    expect(pod.containers[0].args).toEqual(["cellctl", "verify", "--all", "--json", "--operator", "cellwallet-verify"]);
    expect(pod.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const account = ofKind("ServiceAccount").find((a) => a.metadata.name === pod.serviceAccountName) as Manifest;
    expect((account.metadata.annotations as Record<string, string>)["eks.amazonaws.com/role-arn"]).toBe(
      config.operatorRoleArn,
    );
  });
  it("are not rendered without a control-plane image", () => {
    expect(platformManifests({ ...config, controlPlaneImage: undefined }).some((m) => m.kind === "CronJob")).toBe(
      false,
    );
  });
});

describe("registry endpoints", () => {
  it("point at each AZ's Service of the cell, which exists in the manifests", () => {
    const endpoints = cellRegistryEndpoints(config, "blue");
    expect(endpoints.map((e) => e.az)).toEqual(config.azs);
    for (const endpoint of endpoints) {
      const name = cellWorkloadName("blue", endpoint.az);
      expect(endpoint.url).toBe(`http://${name}.${config.namespace}.svc.cluster.local:${CELL_PORT}`);
      expect(ofKind("Service").some((s) => s.metadata.name === name)).toBe(true);
      expect(endpoint.weight).toBeGreaterThan(0);
    }
  });
});

describe("snapshot", () => {
  it("one cell's Deployment in one AZ is what the rollout controller's driver will apply", () => {
    expect(synthCellDeployment(DEFAULT_PLATFORM, "cell-1", "eu-west-1a")).toMatchSnapshot();
  });
});
