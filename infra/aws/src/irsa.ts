import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";

/** The EKS cluster's OIDC provider, as created by the cluster stack or eksctl (not managed here). */
export interface ClusterOidc {
  /** arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID */
  readonly providerArn: string;
  /** oidc.eks.REGION.amazonaws.com/id/ID (the issuer without https://) */
  readonly issuer: string;
}

/** A role only the given Kubernetes ServiceAccount can assume (IRSA). */
export function irsaRole(
  scope: Construct,
  id: string,
  oidc: ClusterOidc,
  namespace: string,
  serviceAccount: string,
  roleName: string,
): iam.Role {
  return new iam.Role(scope, id, {
    roleName,
    description: `IRSA role of ${namespace}/${serviceAccount}`,
    assumedBy: new iam.FederatedPrincipal(
      oidc.providerArn,
      {
        StringEquals: {
          [`${oidc.issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
          [`${oidc.issuer}:aud`]: "sts.amazonaws.com",
        },
      },
      "sts:AssumeRoleWithWebIdentity",
    ),
  });
}
