/** What `npm run synth` deploys: the AZs, the cells, the images and the shared settings. */
export interface CellSpec {
  readonly cellId: string;
  /** Replicas the cell's peak load needs in total; the per-AZ count follows the static-stability rule. */
  readonly requiredReplicas: number;
  /** IAM role the cell's pods assume through IRSA (output of the cell's CellStack). */
  readonly roleArn: string;
}

export interface PlatformConfig {
  readonly namespace: string;
  /** Zone names as the nodes label them (topology.kubernetes.io/zone), e.g. eu-west-1a. */
  readonly azs: readonly string[];
  readonly region: string;
  /** Table prefix shared with the AWS stacks (cell tables and placement tables). */
  readonly tablePrefix: string;
  /** Container images; pin by digest in production (`repo@sha256:...`). */
  readonly cellImage: string;
  readonly routerImage: string;
  /** Name of the Kubernetes Secret holding WALLET_JWT_SECRET, CELL_INTERNAL_SECRET and CHECKPOINT_SIGNING_KEY (created out of band). */
  readonly secretName: string;
  /** Issuer's JWKS URL; when set, cells and routers verify user tokens with it instead of WALLET_JWT_SECRET. */
  readonly jwksUrl?: string;
  /** AZs whose loss the replica counts absorb (static stability); default 1. */
  readonly tolerateAzLoss: number;
  readonly routerRequiredReplicas: number;
  readonly routerRoleArn: string;
  /** Image with `cellctl` for the control plane's jobs (nightly verify); unset: no jobs are rendered. */
  readonly controlPlaneImage?: string;
  /** IRSA role of the jobs (ControlPlaneStack's `<prefix>-operator`: read-only on the placement tables). */
  readonly operatorRoleArn: string;
  readonly cells: readonly CellSpec[];
  /** CIDRs of the pods (routers) that may set X-Forwarded-For at the cells: TRUSTED_PROXIES. */
  readonly podCidrs: readonly string[];
  /**
   * Namespace of the metrics collector (CloudWatch agent / ADOT) that scrapes the pods' /metrics, which the
   * rollout alarms are built on; the cells' NetworkPolicy admits it. Unset: no scraper is admitted.
   */
  readonly metricsNamespace?: string;
  /** Public subnet of each AZ for its router's NLB (optional: else the controller discovers them by tags). */
  readonly routerSubnets?: Readonly<Record<string, string>>;
  /**
   * The release of the cell service these manifests deploy (`npm run synth -- --version v2`). When set, the
   * cells' image is `cellImage` with its tag replaced by the version (a digest-pinned `cellImage` is kept
   * as is: the digest is the exact build, the version only names it), and every cell Deployment and its pods
   * carry the label `cellwallet.io/version` (never in a selector: selectors are immutable). Unset: the
   * manifests are exactly those of `cellImage`, without a version label.
   */
  readonly version?: string;
}

export const CELL_PORT = 9000;
export const ROUTER_PORT = 8080;
/** Port of the router Services (its NLB listener, and what cells call in-cluster). */
export const ROUTER_SERVICE_PORT = 80;

/** Labels every object of the platform carries; the NetworkPolicies select on them. */
export const LABELS = {
  partOf: "app.kubernetes.io/part-of",
  component: "app.kubernetes.io/component",
  cell: "cellwallet.io/cell",
  az: "cellwallet.io/az",
  /** The release a cell Deployment runs (only with PlatformConfig.version); the rollout driver finds it by it. */
  version: "cellwallet.io/version",
} as const;

/** A Kubernetes label value: what a version must be to name a release. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Whether `version` can name a release (it becomes a label value and an image tag). */
export function isValidVersion(version: string): boolean {
  return LABEL_VALUE.test(version) && !version.startsWith(".") && !version.startsWith("-");
}

/**
 * The image the cells of `config` run: `cellImage`, or with a `version` its tag replaced by the version
 * (`repo:0.1.0` → `repo:v2`; a registry port `host:5000/repo` is not a tag), or a digest-pinned image as is.
 */
export function cellImageOf(config: Pick<PlatformConfig, "cellImage" | "version">): string {
  const { cellImage, version } = config;
  if (version === undefined) return cellImage;
  if (!isValidVersion(version)) {
    throw new Error(
      `version ${JSON.stringify(version)} is not a valid label value and image tag (A-Z a-z 0-9 . _ -, at most 63)`,
    );
  }
  if (cellImage.includes("@sha256:")) return cellImage;
  const lastSlash = cellImage.lastIndexOf("/");
  const tagColon = cellImage.indexOf(":", lastSlash + 1);
  const repository = tagColon === -1 ? cellImage : cellImage.slice(0, tagColon);
  return `${repository}:${version}`;
}

export const DEFAULT_PLATFORM: PlatformConfig = {
  namespace: "cellwallet",
  azs: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
  region: "eu-west-1",
  tablePrefix: "cellwallet",
  cellImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cellwallet/cell-service:0.1.0",
  routerImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cellwallet/cell-router:0.1.0",
  secretName: "cellwallet-secrets",
  tolerateAzLoss: 1,
  routerRequiredReplicas: 4,
  routerRoleArn: "arn:aws:iam::123456789012:role/cellwallet-router",
  controlPlaneImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cellwallet/control-plane:0.1.0",
  operatorRoleArn: "arn:aws:iam::123456789012:role/cellwallet-operator",
  cells: [
    { cellId: "cell-1", requiredReplicas: 4, roleArn: "arn:aws:iam::123456789012:role/cellwallet-cell-1" },
    { cellId: "cell-2", requiredReplicas: 4, roleArn: "arn:aws:iam::123456789012:role/cellwallet-cell-2" },
  ],
  podCidrs: ["10.0.0.0/16"],
  metricsNamespace: "amazon-cloudwatch",
};

/** The name of the Service (and Deployment) of one cell in one AZ: what the registry's endpoints point at. */
export function cellWorkloadName(cellId: string, az: string): string {
  return `cell-${cellId}-${az}`.replace(/^cell-cell-/, "cell-");
}

export function routerWorkloadName(az: string): string {
  return `router-${az}`;
}

/** In-cluster URL of one cell replica set, to register in the control plane (cellctl). */
export function cellServiceUrl(config: Pick<PlatformConfig, "namespace">, cellId: string, az: string): string {
  return `http://${cellWorkloadName(cellId, az)}.${config.namespace}.svc.cluster.local:${CELL_PORT}`;
}

export function routerServiceUrl(config: Pick<PlatformConfig, "namespace">, az: string): string {
  return `http://${routerWorkloadName(az)}.${config.namespace}.svc.cluster.local:${ROUTER_SERVICE_PORT}`;
}

/**
 * The registry endpoints of one cell (the control plane's CellEndpoint shape): its Service in every AZ,
 * each at full weight. What `putCell` stores when the cell is first registered.
 */
export function cellRegistryEndpoints(
  config: Pick<PlatformConfig, "namespace" | "azs">,
  cellId: string,
): { az: string; url: string; weight: number }[] {
  return config.azs.map((az) => ({ az, url: cellServiceUrl(config, cellId, az), weight: 100 }));
}
