import { ApiObject, App, Chart, type ChartProps, YamlOutputType } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import type { Construct } from "constructs";
import { Cell } from "./cell.js";
import { cellWorkloadName, LABELS, type PlatformConfig, ROUTER_PORT } from "./config.js";
import { ControlPlaneJobs } from "./jobs.js";
import { Router } from "./router.js";

/** Namespace, the routers' ServiceAccount and ConfigMap, and one Router per AZ. */
export class RoutersChart extends Chart {
  readonly routers: Router[];
  constructor(scope: Construct, id: string, config: PlatformConfig, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: config.namespace });
    const labels = { [LABELS.partOf]: "cellwallet", [LABELS.component]: "router" };
    const serviceAccount = new kplus.ServiceAccount(this, "service-account", {
      metadata: {
        name: "cellwallet-router",
        labels,
        annotations: { "eks.amazonaws.com/role-arn": config.routerRoleArn },
      },
      automountToken: false,
    });
    const configMap = new kplus.ConfigMap(this, "config", {
      metadata: { name: "cellwallet-router-config", labels },
      data: {
        HOST: "0.0.0.0",
        ROUTER_PORT: String(ROUTER_PORT),
        WALLET_MODE: "production",
        PLACEMENT_STORE: "dynamodb",
        AWS_REGION: config.region,
        PLACEMENT_TABLE_PREFIX: config.tablePrefix,
        LOG_LEVEL: "info",
        ...(config.jwksUrl ? { WALLET_JWKS_URL: config.jwksUrl } : {}),
      },
    });
    this.routers = config.azs.map((az) => new Router(this, `router-${az}`, { config, az, serviceAccount, configMap }));
  }
}

export class NamespaceChart extends Chart {
  constructor(scope: Construct, id: string, config: PlatformConfig) {
    super(scope, id);
    new kplus.Namespace(this, "namespace", {
      metadata: {
        name: config.namespace,
        labels: {
          [LABELS.partOf]: "cellwallet",
          // Pod Security Admission: the workloads meet the restricted profile.
          "pod-security.kubernetes.io/enforce": "restricted",
        },
      },
    });
    // Default deny: a pod of the namespace takes only what a NetworkPolicy of its own admits.
    new ApiObject(this, "default-deny", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-ingress", namespace: config.namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
  }
}

export class CellChart extends Chart {
  readonly cell: Cell;
  constructor(scope: Construct, id: string, config: PlatformConfig, cellId: string, onlyAzs?: readonly string[]) {
    super(scope, id, { namespace: config.namespace });
    const spec = config.cells.find((c) => c.cellId === cellId);
    if (!spec) throw new Error(`no cell ${cellId} in the platform config`);
    this.cell = new Cell(this, "cell", { config, cell: spec, ...(onlyAzs ? { onlyAzs } : {}) });
  }
}

/** All charts of the platform in one App: `namespace`, `routers`, `cell-<id>` per cell, `control-plane-jobs`. */
export function buildPlatform(config: PlatformConfig, outdir?: string): App {
  const app = new App({
    ...(outdir ? { outdir } : {}),
    yamlOutputType: YamlOutputType.FILE_PER_CHART,
    outputFileExtension: ".k8s.yaml",
  });
  new NamespaceChart(app, "namespace", config);
  new RoutersChart(app, "routers", config);
  for (const cell of config.cells) new CellChart(app, cell.cellId, config, cell.cellId);
  if (config.controlPlaneImage) {
    const jobs = new Chart(app, "control-plane-jobs", { namespace: config.namespace });
    new ControlPlaneJobs(jobs, "jobs", { ...config, controlPlaneImage: config.controlPlaneImage });
  }
  return app;
}

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown } } & Record<
  string,
  unknown
>;

/** Every manifest of the platform, in the order kubectl should apply them. */
export function platformManifests(config: PlatformConfig): Manifest[] {
  const app = buildPlatform(config);
  return app.charts.flatMap((chart) => chart.toJson() as Manifest[]);
}

/**
 * The manifest of ONE cell's Deployment in ONE AZ, exactly as `npm run synth` writes it: what the rollout
 * controller's Kubernetes driver applies one AZ at a time. `version` names the release (see
 * PlatformConfig.version); `image` replaces `cellImage` (a digest-pinned image is kept as is).
 */
export function synthCellDeployment(
  config: PlatformConfig,
  cellId: string,
  az: string,
  overrides: { image?: string; version?: string } = {},
): Manifest {
  const effective: PlatformConfig = {
    ...config,
    ...(overrides.image ? { cellImage: overrides.image } : {}),
    ...(overrides.version !== undefined ? { version: overrides.version } : {}),
  };
  const chart = new CellChart(new App(), cellId, effective, cellId, [az]);
  const name = cellWorkloadName(cellId, az);
  const found = (chart.toJson() as Manifest[]).find((m) => m.kind === "Deployment" && m.metadata.name === name);
  if (!found) throw new Error(`no Deployment ${name} synthesized`);
  return found;
}
