import { ApiObject, Duration, JsonPatch, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import type { Construct } from "constructs";

export const ZONE_LABEL = "topology.kubernetes.io/zone";
/** UID/GID the images run as (any non-root id works; > 10000 keeps clear of host users). */
export const RUN_AS_UID = 10001;

export interface ResourceSpec {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

export const DEFAULT_RESOURCES: ResourceSpec = {
  cpuRequestMillis: 500,
  cpuLimitMillis: 1000,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
};

export interface ZonalDeploymentProps {
  readonly name: string;
  readonly az: string;
  readonly image: string;
  readonly port: number;
  readonly replicas: number;
  /** Labels of the pods; all of them form the selector. */
  readonly labels: Record<string, string>;
  /**
   * More labels on the Deployment and its pods that are NOT in the selector (a Deployment's selector is
   * immutable: a release label there would turn every rollout into a delete and re-create).
   */
  readonly unselectedLabels?: Record<string, string>;
  readonly serviceAccount: kplus.IServiceAccount;
  readonly configMap: kplus.IConfigMap;
  /** Environment variables taken from keys of `secret` (same name as the key). */
  readonly secret: kplus.ISecret;
  readonly secretKeys: readonly string[];
  /** Plain per-AZ environment (on top of the ConfigMap). */
  readonly env: Record<string, string>;
  readonly resources: ResourceSpec;
  /** The root filesystem is read-only: these paths get an emptyDir each. */
  readonly writablePaths: readonly string[];
  /** Extra pod annotations (e.g. checkov skips with their reasons). */
  readonly annotations?: Record<string, string>;
}

/**
 * One hardened Deployment pinned to one AZ: required node affinity on the zone label, spread over the
 * zone's nodes, non-root, read-only root filesystem, no privilege escalation, all capabilities dropped,
 * RuntimeDefault seccomp, /health liveness and /ready readiness probes, requests and limits, a rolling
 * update that never goes below the replica count (surge one, none unavailable).
 */
export function zonalDeployment(scope: Construct, id: string, props: ZonalDeploymentProps): kplus.Deployment {
  const secretEnv: Record<string, kplus.EnvValue> = {};
  for (const key of props.secretKeys) {
    secretEnv[key] = kplus.EnvValue.fromSecretValue(
      { secret: props.secret, key },
      // Required keys fail the pod at start rather than letting it run half-configured.
      { optional: key === "WALLET_JWT_SECRET" },
    );
  }
  const plainEnv: Record<string, kplus.EnvValue> = {};
  for (const [key, value] of Object.entries(props.env)) plainEnv[key] = kplus.EnvValue.fromValue(value);
  const volumeMounts = props.writablePaths.map((path, index) => ({
    path,
    volume: kplus.Volume.fromEmptyDir(scope, `${id}-scratch-${index}`, `scratch-${index}`, {
      sizeLimit: Size.mebibytes(64),
    }),
  }));
  const allLabels = { ...props.labels, ...props.unselectedLabels };
  const deployment = new kplus.Deployment(scope, id, {
    metadata: {
      name: props.name,
      labels: allLabels,
      ...(props.annotations ? { annotations: props.annotations } : {}),
    },
    replicas: props.replicas,
    select: false,
    podMetadata: { labels: allLabels },
    serviceAccount: props.serviceAccount,
    // IRSA does not need the Kubernetes API token: its webhook projects its own web-identity token.
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: RUN_AS_UID, group: RUN_AS_UID, fsGroup: RUN_AS_UID },
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.absolute(1),
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    minReady: Duration.seconds(10),
    progressDeadline: Duration.minutes(10),
    containers: [
      {
        name: "app",
        image: props.image,
        imagePullPolicy: kplus.ImagePullPolicy.ALWAYS,
        ports: [{ number: props.port, name: "http" }],
        envFrom: [kplus.Env.fromConfigMap(props.configMap)],
        envVariables: { ...plainEnv, ...secretEnv },
        liveness: kplus.Probe.fromHttpGet("/health", {
          port: props.port,
          periodSeconds: Duration.seconds(10),
          timeoutSeconds: Duration.seconds(2),
          failureThreshold: 3,
        }),
        readiness: kplus.Probe.fromHttpGet("/ready", {
          port: props.port,
          periodSeconds: Duration.seconds(5),
          timeoutSeconds: Duration.seconds(2),
          failureThreshold: 2,
        }),
        resources: {
          cpu: {
            request: kplus.Cpu.millis(props.resources.cpuRequestMillis),
            limit: kplus.Cpu.millis(props.resources.cpuLimitMillis),
          },
          memory: {
            request: Size.mebibytes(props.resources.memoryRequestMiB),
            limit: Size.mebibytes(props.resources.memoryLimitMiB),
          },
        },
        securityContext: {
          ensureNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          user: RUN_AS_UID,
          group: RUN_AS_UID,
        },
        volumeMounts,
      },
    ],
  });
  deployment.select(kplus.LabelSelector.of({ labels: props.labels }));
  deployment.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is(ZONE_LABEL, props.az)));
  // What cdk8s-plus-27 has no property for.
  ApiObject.of(deployment).addJsonPatch(
    JsonPatch.add("/spec/template/spec/containers/0/securityContext/capabilities", { drop: ["ALL"] }),
    JsonPatch.add("/spec/template/spec/securityContext/seccompProfile", { type: "RuntimeDefault" }),
    JsonPatch.add("/spec/template/spec/topologySpreadConstraints", [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: props.labels },
      },
    ]),
  );
  return deployment;
}

/** At most one pod of the AZ's Deployment down at a time through voluntary disruptions (drains, upgrades). */
export function podDisruptionBudget(scope: Construct, id: string, name: string, labels: Record<string, string>) {
  return new ApiObject(scope, id, {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  });
}
