import { ApiObject } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import {
  CELL_PORT,
  type CellSpec,
  cellImageOf,
  cellWorkloadName,
  LABELS,
  type PlatformConfig,
  routerServiceUrl,
} from "./config.js";
import { replicasPerAz } from "./replicas.js";
import { DEFAULT_RESOURCES, podDisruptionBudget, type ResourceSpec, zonalDeployment } from "./workload.js";

export interface CellProps {
  readonly config: PlatformConfig;
  readonly cell: CellSpec;
  /** AZs to render (default: all of the platform's); the replica rule always counts all of them. */
  readonly onlyAzs?: readonly string[];
  readonly resources?: ResourceSpec;
  /**
   * Also admit other cells' pods. Off by default: cells reach each other only through the router
   * (ROUTER_INTERNAL_URL), so a cell needs ingress from the routers alone.
   */
  readonly allowPeerCells?: boolean;
}

export interface CellZone {
  readonly az: string;
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly podDisruptionBudget: ApiObject;
}

/**
 * One wallet cell: per AZ a Deployment pinned to the zone, its Service and a PodDisruptionBudget; one
 * ServiceAccount (IRSA role of the cell's tables), one ConfigMap and one NetworkPolicy for the cell.
 */
export class Cell extends Construct {
  readonly replicasPerAz: number;
  readonly zones: CellZone[] = [];
  readonly serviceAccount: kplus.ServiceAccount;
  readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: CellProps) {
    super(scope, id);
    const { config, cell } = props;
    const cellId = cell.cellId;
    this.replicasPerAz = replicasPerAz({
      requiredReplicas: cell.requiredReplicas,
      azCount: config.azs.length,
      tolerateAzLoss: config.tolerateAzLoss,
    });
    const base = { [LABELS.partOf]: "cellwallet", [LABELS.component]: "cell", [LABELS.cell]: cellId };
    this.serviceAccount = new kplus.ServiceAccount(this, "service-account", {
      metadata: {
        name: `cellwallet-${cellId}`,
        labels: base,
        annotations: { "eks.amazonaws.com/role-arn": cell.roleArn },
      },
      automountToken: false,
    });
    this.configMap = new kplus.ConfigMap(this, "config", {
      metadata: { name: `cellwallet-${cellId}-config`, labels: base },
      data: {
        CELL_ID: cellId,
        HOST: "0.0.0.0",
        PORT: String(CELL_PORT),
        WALLET_MODE: "production",
        WALLET_STORE: "dynamodb",
        AWS_REGION: config.region,
        WALLET_TABLE_PREFIX: config.tablePrefix,
        // The AWS stacks own the tables; the service must never create them.
        WALLET_CREATE_TABLES: "false",
        TRUSTED_PROXIES: config.podCidrs.join(","),
        LOG_LEVEL: "info",
        ...(config.jwksUrl ? { WALLET_JWKS_URL: config.jwksUrl } : {}),
      },
    });
    const secret = kplus.Secret.fromSecretName(this, "secret", config.secretName);
    // CHECKPOINT_SIGNING_KEY: the cell's Ed25519 key for signed checkpoints (production refuses to start without it).
    const secretKeys = config.jwksUrl
      ? ["CELL_INTERNAL_SECRET", "CHECKPOINT_SIGNING_KEY"]
      : ["WALLET_JWT_SECRET", "CELL_INTERNAL_SECRET", "CHECKPOINT_SIGNING_KEY"];
    const image = cellImageOf(config);
    const release = config.version === undefined ? undefined : { [LABELS.version]: config.version };
    const azs = props.onlyAzs ?? config.azs;
    for (const az of azs) {
      if (!config.azs.includes(az)) throw new Error(`AZ ${az} is not one of the platform's ${config.azs.join(", ")}`);
      const name = cellWorkloadName(cellId, az);
      const labels = { ...base, [LABELS.az]: az };
      const deployment = zonalDeployment(this, `deployment-${az}`, {
        name,
        az,
        image,
        port: CELL_PORT,
        replicas: this.replicasPerAz,
        labels,
        ...(release ? { unselectedLabels: release } : {}),
        serviceAccount: this.serviceAccount,
        configMap: this.configMap,
        secret,
        secretKeys,
        // Cross-cell calls go to the router of the same AZ: no cross-AZ hop.
        // CELL_VERSION: the cell reports its release on /ready and as cellwallet_build_info{version}.
        env: {
          AZ: az,
          ROUTER_INTERNAL_URL: routerServiceUrl(config, az),
          ...(config.version === undefined ? {} : { CELL_VERSION: config.version }),
        },
        resources: props.resources ?? DEFAULT_RESOURCES,
        writablePaths: ["/tmp"],
        annotations: checkovAccepted(image),
      });
      const service = new kplus.Service(this, `service-${az}`, {
        metadata: { name, labels },
        ports: [{ port: CELL_PORT, targetPort: CELL_PORT, name: "http" }],
      });
      for (const [key, value] of Object.entries(labels)) service.selectLabel(key, value);
      this.zones.push({
        az,
        deployment,
        service,
        podDisruptionBudget: podDisruptionBudget(this, `pdb-${az}`, name, labels),
      });
    }
    const peers: object[] = [
      { podSelector: { matchLabels: { [LABELS.partOf]: "cellwallet", [LABELS.component]: "router" } } },
    ];
    if (config.controlPlaneImage) {
      // the control plane's verify job reads the cells' audit endpoints
      peers.push({
        podSelector: { matchLabels: { [LABELS.partOf]: "cellwallet", [LABELS.component]: "operator-job" } },
      });
    }
    if (config.metricsNamespace) {
      peers.push({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": config.metricsNamespace } } });
    }
    if (props.allowPeerCells) {
      peers.push({ podSelector: { matchLabels: { [LABELS.partOf]: "cellwallet", [LABELS.component]: "cell" } } });
    }
    new ApiObject(this, "network-policy", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `cellwallet-${cellId}-ingress`, labels: base },
      spec: {
        podSelector: { matchLabels: base },
        policyTypes: ["Ingress"],
        ingress: [{ from: peers, ports: [{ protocol: "TCP", port: CELL_PORT }] }],
      },
    });
  }
}

/**
 * Checkov findings accepted for the workloads, each with its reason (checkov reads `checkov.io/skipN`
 * annotations). The image-digest finding is accepted only while the image is not pinned by digest.
 */
export function checkovAccepted(image: string): Record<string, string> {
  const accepted = [
    "CKV_K8S_35=the services read their secrets from the environment only (cellConfigFromEnv, router config); the values come from a Secret by secretKeyRef, never from the manifest",
  ];
  if (!image.includes("@sha256:")) {
    accepted.push(
      "CKV_K8S_43=this config pins the image by tag; production configs set repo@sha256 digests, which lifts this skip",
    );
  }
  return Object.fromEntries(accepted.map((reason, i) => [`checkov.io/skip${i + 1}`, reason]));
}
