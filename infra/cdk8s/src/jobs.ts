import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { checkovAccepted } from "./cell.js";
import { LABELS, type PlatformConfig } from "./config.js";
import { DEFAULT_RESOURCES, RUN_AS_UID } from "./workload.js";

/** Labels of the control plane's job pods; the cells' NetworkPolicy admits them (audit reads). */
export const OPERATOR_JOB_LABELS = { [LABELS.partOf]: "cellwallet", [LABELS.component]: "operator-job" } as const;

/**
 * The control plane's scheduled job: `cellctl verify --all --json` every night, which reads the registry
 * (placement tables, read-only IRSA role `<prefix>-operator` from ControlPlaneStack) and asks every cell to
 * verify its hash chains; a non-zero exit (tampering found or a cell unverifiable) fails the Job, which the
 * cluster's alerting on failed Jobs reports. Rendered only when `config.controlPlaneImage` is set.
 */
export class ControlPlaneJobs extends Construct {
  constructor(scope: Construct, id: string, config: PlatformConfig & { controlPlaneImage: string }) {
    super(scope, id);
    const name = "cellwallet-verify";
    new ApiObject(this, "service-account", {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "cellwallet-operator",
        labels: OPERATOR_JOB_LABELS,
        annotations: { "eks.amazonaws.com/role-arn": config.operatorRoleArn },
      },
      automountServiceAccountToken: false,
    });
    const configMap = new ApiObject(this, "config", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cellwallet-operator-config", labels: OPERATOR_JOB_LABELS },
      data: {
        WALLET_MODE: "production",
        PLACEMENT_STORE: "dynamodb",
        AWS_REGION: config.region,
        PLACEMENT_TABLE_PREFIX: config.tablePrefix,
      },
    });
    const secretEnv = config.jwksUrl
      ? []
      : [
          {
            name: "WALLET_JWT_SECRET",
            valueFrom: { secretKeyRef: { name: config.secretName, key: "WALLET_JWT_SECRET" } },
          },
        ];
    new ApiObject(this, "verify", {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name, labels: OPERATOR_JOB_LABELS, annotations: checkovAccepted(config.controlPlaneImage) },
      spec: {
        schedule: "17 3 * * *",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 5,
        jobTemplate: {
          spec: {
            backoffLimit: 1,
            activeDeadlineSeconds: 3600,
            template: {
              metadata: { labels: OPERATOR_JOB_LABELS },
              spec: {
                restartPolicy: "Never",
                serviceAccountName: "cellwallet-operator",
                automountServiceAccountToken: false,
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: RUN_AS_UID,
                  runAsGroup: RUN_AS_UID,
                  seccompProfile: { type: "RuntimeDefault" },
                },
                containers: [
                  {
                    name: "verify",
                    image: config.controlPlaneImage,
                    imagePullPolicy: "Always",
                    args: ["cellctl", "verify", "--all", "--json", "--operator", name],
                    envFrom: [{ configMapRef: { name: configMap.name } }],
                    env: secretEnv,
                    resources: {
                      requests: {
                        cpu: `${DEFAULT_RESOURCES.cpuRequestMillis}m`,
                        memory: `${DEFAULT_RESOURCES.memoryRequestMiB}Mi`,
                      },
                      limits: {
                        cpu: `${DEFAULT_RESOURCES.cpuLimitMillis}m`,
                        memory: `${DEFAULT_RESOURCES.memoryLimitMiB}Mi`,
                      },
                    },
                    securityContext: {
                      runAsNonRoot: true,
                      readOnlyRootFilesystem: true,
                      allowPrivilegeEscalation: false,
                      privileged: false,
                      capabilities: { drop: ["ALL"] },
                    },
                    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                  },
                ],
                volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
              },
            },
          },
        },
      },
    });
    // The job makes no inbound connections: deny all ingress to its pods (the namespace default does too).
    new ApiObject(this, "network-policy", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${name}-ingress`, labels: OPERATOR_JOB_LABELS },
      spec: { podSelector: { matchLabels: OPERATOR_JOB_LABELS }, policyTypes: ["Ingress"] },
    });
  }
}
