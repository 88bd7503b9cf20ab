import * as route53 from "aws-cdk-lib/aws-route53";
import type { Construct } from "constructs";

/** One Region's routers as the edge sees them: the name of that Region's weighted per-AZ records. */
export interface RegionalRouters {
  readonly region: string;
  /** e.g. eu-west-1.api.wallet.example.com: the weighted AZ records of that Region's edge stack. */
  readonly recordName: string;
}

/**
 * Route 53 failover between two Regions' routers: the public name answers with
 * the primary Region while its health check (the routers' /ready) passes, and
 * with the secondary otherwise. Failing over DNS moves traffic only: the
 * secondary Region's cells must have verified and reconciled their replicas
 * before they take writes (runbooks/region-failover.md).
 */
export interface RegionalFailover {
  /** The public name clients use, e.g. api.wallet.example.com. */
  readonly publicName: string;
  readonly primary: RegionalRouters;
  readonly secondary: RegionalRouters;
}

export function addRegionalFailover(
  scope: Construct,
  zone: route53.IHostedZone,
  failover: RegionalFailover,
): { records: route53.CfnRecordSet[]; healthChecks: route53.CfnHealthCheck[] } {
  const records: route53.CfnRecordSet[] = [];
  const healthChecks: route53.CfnHealthCheck[] = [];
  for (const [role, routers] of [
    ["PRIMARY", failover.primary],
    ["SECONDARY", failover.secondary],
  ] as const) {
    const healthCheck = new route53.CfnHealthCheck(scope, `RegionHealthCheck-${routers.region}`, {
      healthCheckConfig: {
        type: "HTTPS",
        fullyQualifiedDomainName: routers.recordName,
        port: 443,
        resourcePath: "/ready",
        requestInterval: 10,
        failureThreshold: 3,
      },
      healthCheckTags: [{ key: "Name", value: `cellwallet-routers-${routers.region}` }],
    });
    healthChecks.push(healthCheck);
    records.push(
      new route53.CfnRecordSet(scope, `RegionFailover-${role}`, {
        hostedZoneId: zone.hostedZoneId,
        name: failover.publicName,
        type: "A",
        setIdentifier: `${role.toLowerCase()}-${routers.region}`,
        failover: role,
        healthCheckId: healthCheck.attrHealthCheckId,
        aliasTarget: { dnsName: routers.recordName, hostedZoneId: zone.hostedZoneId, evaluateTargetHealth: true },
      }),
    );
  }
  return { records, healthChecks };
}
