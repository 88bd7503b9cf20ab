import { ApiObject } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import { checkovAccepted } from "./cell.js";
import { LABELS, type PlatformConfig, ROUTER_PORT, ROUTER_SERVICE_PORT, routerWorkloadName } from "./config.js";
import { replicasPerAz } from "./replicas.js";
import { DEFAULT_RESOURCES, podDisruptionBudget, type ResourceSpec, zonalDeployment } from "./workload.js";

export interface RouterProps {
  readonly config: PlatformConfig;
  readonly az: string;
  readonly serviceAccount: kplus.IServiceAccount;
  readonly configMap: kplus.IConfigMap;
  readonly resources?: ResourceSpec;
}

/**
 * The router of one AZ: a Deployment pinned to the zone and a LoadBalancer Service (one NLB per AZ,
 * which Route 53 weights per AZ). The Service keeps traffic in the zone: `trafficDistribution:
 * PreferClose` (Kubernetes >= 1.31) and the topology-aware routing annotation for older clusters.
 */
export class Router extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: ApiObject;
  readonly replicas: number;

  constructor(scope: Construct, id: string, props: RouterProps) {
    super(scope, id);
    const { config, az } = props;
    const name = routerWorkloadName(az);
    const labels = { [LABELS.partOf]: "cellwallet", [LABELS.component]: "router", [LABELS.az]: az };
    this.replicas = replicasPerAz({
      requiredReplicas: config.routerRequiredReplicas,
      azCount: config.azs.length,
      tolerateAzLoss: config.tolerateAzLoss,
    });
    const secret = kplus.Secret.fromSecretName(this, "secret", config.secretName);
    this.deployment = zonalDeployment(this, "deployment", {
      name,
      az,
      image: config.routerImage,
      port: ROUTER_PORT,
      replicas: this.replicas,
      labels,
      serviceAccount: props.serviceAccount,
      configMap: props.configMap,
      secret,
      secretKeys: config.jwksUrl ? ["CELL_INTERNAL_SECRET"] : ["WALLET_JWT_SECRET", "CELL_INTERNAL_SECRET"],
      env: {
        AZ: az,
        ROUTER_STATE_FILE: "/var/lib/cellwallet/router-state.json",
        // Every router pod of every AZ shares the traffic: a cell's rate is one pod's × this (onboarding's ops/s rule).
        ROUTER_PEERS: String(this.replicas * config.azs.length),
      },
      resources: props.resources ?? DEFAULT_RESOURCES,
      writablePaths: ["/tmp", "/var/lib/cellwallet"],
      annotations: checkovAccepted(config.routerImage),
    });
    // A plain ApiObject: cdk8s-plus-27's Service (Kubernetes 1.27 types) drops `trafficDistribution`.
    this.service = new ApiObject(this, "service", {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name,
        labels,
        annotations: {
          "service.kubernetes.io/topology-mode": "Auto",
          // AWS Load Balancer Controller: one internet-facing NLB per AZ, pods as IP targets.
          "service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/ready",
          ...(config.routerSubnets?.[az]
            ? { "service.beta.kubernetes.io/aws-load-balancer-subnets": config.routerSubnets[az] }
            : {}),
        },
      },
      spec: {
        type: "LoadBalancer",
        selector: labels,
        ports: [{ name: "http", port: ROUTER_SERVICE_PORT, targetPort: ROUTER_PORT, protocol: "TCP" }],
        trafficDistribution: "PreferClose",
      },
    });
    podDisruptionBudget(this, "pdb", name, labels);
    // The NLB sends client traffic straight to the pods (IP targets): the router port is open to all,
    // and nothing else is.
    new ApiObject(this, "network-policy", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${name}-ingress`, labels },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: ROUTER_PORT }] }],
      },
    });
  }
}
