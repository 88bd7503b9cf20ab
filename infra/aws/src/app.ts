import { DEFAULT_PLATFORM, type PlatformConfig } from "@cellwallet/infra-cdk8s";
import { App, type Environment } from "aws-cdk-lib";
import { CellStack } from "./cell-stack.js";
import { ControlPlaneStack } from "./control-plane-stack.js";
import { type AzLoadBalancer, EdgeStack } from "./edge-stack.js";
import type { MultiRegionTables } from "./global-tables.js";
import type { ClusterOidc } from "./irsa.js";
import type { RegionalFailover } from "./regional-failover.js";

export interface AwsPlatformConfig {
  readonly platform: PlatformConfig;
  /** Explicit account/region: synth needs no credentials and no look-ups. */
  readonly env: Environment;
  readonly oidc: ClusterOidc;
  readonly domainName: string;
  readonly hostedZone?: { hostedZoneId: string; zoneName: string };
  readonly loadBalancers: readonly AzLoadBalancer[];
  readonly metricsNamespace: string;
  /** Opt-in: cell tables as global tables (see docs/disaster-recovery.md). */
  readonly multiRegion?: MultiRegionTables;
  /** Opt-in: Route 53 failover between this Region's routers and another Region's. */
  readonly regionalFailover?: RegionalFailover;
}

export const DEFAULT_AWS_PLATFORM: AwsPlatformConfig = {
  platform: DEFAULT_PLATFORM,
  env: { account: "123456789012", region: DEFAULT_PLATFORM.region },
  oidc: {
    providerArn:
      "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    issuer: "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
  },
  domainName: "api.wallet.example.com",
  loadBalancers: DEFAULT_PLATFORM.azs.map((az) => ({
    az,
    dnsName: `router-${az}-0123456789abcdef.elb.eu-west-1.amazonaws.com`,
    canonicalHostedZoneId: "Z2IFOLAFXWLO4F",
  })),
  metricsNamespace: "Cellwallet",
};

/** Stack names: what `cdk deploy` is given, in deployment order. */
export function stackNames(config: AwsPlatformConfig) {
  return {
    controlPlane: "cellwallet-control-plane",
    cell: (cellId: string) => `cellwallet-${cellId}`,
    edge: "cellwallet-edge",
    all: ["cellwallet-control-plane", ...config.platform.cells.map((c) => `cellwallet-${c.cellId}`), "cellwallet-edge"],
  };
}

export function buildAwsApp(config: AwsPlatformConfig = DEFAULT_AWS_PLATFORM, outdir?: string) {
  const app = new App(outdir ? { outdir } : {});
  const { platform, env, oidc } = config;
  const names = stackNames(config);
  const controlPlane = new ControlPlaneStack(app, names.controlPlane, {
    env,
    tablePrefix: platform.tablePrefix,
    namespace: platform.namespace,
    oidc,
    ...(config.multiRegion ? { multiRegion: config.multiRegion } : {}),
  });
  const cells = platform.cells.map(
    (cell) =>
      new CellStack(app, names.cell(cell.cellId), {
        env,
        cellId: cell.cellId,
        tablePrefix: platform.tablePrefix,
        namespace: platform.namespace,
        oidc,
        ...(config.multiRegion ? { multiRegion: config.multiRegion } : {}),
      }),
  );
  const edge = new EdgeStack(app, names.edge, {
    env,
    domainName: config.domainName,
    ...(config.hostedZone ? { hostedZone: config.hostedZone } : {}),
    loadBalancers: config.loadBalancers,
    cellIds: platform.cells.map((c) => c.cellId),
    azs: platform.azs,
    metricsNamespace: config.metricsNamespace,
    ...(config.regionalFailover ? { regionalFailover: config.regionalFailover } : {}),
  });
  return { app, controlPlane, cells, edge };
}
