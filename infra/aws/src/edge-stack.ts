import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as route53 from "aws-cdk-lib/aws-route53";
import type { Construct } from "constructs";
import { addRegionalFailover, type RegionalFailover } from "./regional-failover.js";

/** The NLB the AWS Load Balancer Controller made for one AZ's router Service. */
export interface AzLoadBalancer {
  readonly az: string;
  readonly dnsName: string;
  /** The NLB's canonical hosted zone id (per region, e.g. Z2IFOLAFXWLO4F for eu-west-1 NLBs). */
  readonly canonicalHostedZoneId: string;
}

export interface AlarmThresholds {
  /** 5xx / requests, in percent, over `periodSeconds`. */
  readonly errorRatePercent: number;
  readonly p99LatencyMs: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  errorRatePercent: 1,
  p99LatencyMs: 500,
  periodSeconds: 60,
  evaluationPeriods: 3,
};

export interface EdgeStackProps extends StackProps {
  /** e.g. api.wallet.example.com */
  readonly domainName: string;
  /** An existing public zone (import); without it the stack creates the zone. */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  readonly loadBalancers: readonly AzLoadBalancer[];
  readonly cellIds: readonly string[];
  readonly azs: readonly string[];
  /** CloudWatch namespace the metrics of cells and routers are published to (ADOT / CloudWatch agent). */
  readonly metricsNamespace: string;
  readonly thresholds?: AlarmThresholds;
  /** Opt-in: failover records for the public name between this Region's routers and another Region's. */
  readonly regionalFailover?: RegionalFailover;
}

/** Names of the alarms the rollout controller watches for one cell in one AZ. */
export function cellAlarmNames(prefix: string, cellId: string, az: string) {
  return { errorRate: `${prefix}-${cellId}-${az}-error-rate`, p99Latency: `${prefix}-${cellId}-${az}-p99-latency` };
}

/** Weight of an AZ's record while it serves; the evacuation driver sets 0 to drain the AZ. */
export const AZ_WEIGHT_SERVING = 100;

/**
 * The edge: one weighted alias record per AZ pointing at that AZ's router NLB, each with a Route 53 health
 * check on the router's /ready; and per cell and AZ the alarms (error rate, p99 latency) that gate rollouts.
 */
export class EdgeStack extends Stack {
  readonly zone: route53.IHostedZone;
  readonly healthChecks: Record<string, route53.CfnHealthCheck> = {};
  readonly records: Record<string, route53.CfnRecordSet> = {};
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const thresholds = props.thresholds ?? DEFAULT_THRESHOLDS;
    this.zone = props.hostedZone
      ? route53.HostedZone.fromHostedZoneAttributes(this, "Zone", props.hostedZone)
      : new route53.PublicHostedZone(this, "Zone", { zoneName: props.domainName });
    for (const lb of props.loadBalancers) {
      const healthCheck = new route53.CfnHealthCheck(this, `HealthCheck-${lb.az}`, {
        healthCheckConfig: {
          type: "HTTP",
          fullyQualifiedDomainName: lb.dnsName,
          port: 80,
          resourcePath: "/ready",
          requestInterval: 10,
          failureThreshold: 3,
        },
        healthCheckTags: [{ key: "Name", value: `cellwallet-router-${lb.az}` }],
      });
      this.healthChecks[lb.az] = healthCheck;
      this.records[lb.az] = new route53.CfnRecordSet(this, `Record-${lb.az}`, {
        hostedZoneId: this.zone.hostedZoneId,
        name: props.domainName,
        type: "A",
        setIdentifier: lb.az,
        weight: AZ_WEIGHT_SERVING,
        healthCheckId: healthCheck.attrHealthCheckId,
        aliasTarget: { dnsName: lb.dnsName, hostedZoneId: lb.canonicalHostedZoneId, evaluateTargetHealth: true },
      });
    }
    const period = Duration.seconds(thresholds.periodSeconds);
    for (const cellId of props.cellIds) {
      for (const az of props.azs) {
        const dimensionsMap = { cell: cellId, az };
        const names = cellAlarmNames("cellwallet", cellId, az);
        const metric = (metricName: string, statistic: string) =>
          new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName, dimensionsMap, statistic, period });
        const errorRate = new cloudwatch.MathExpression({
          expression: "100 * IF(requests > 0, errors / requests, 0)",
          usingMetrics: { errors: metric("Http5xxCount", "Sum"), requests: metric("HttpRequestCount", "Sum") },
          period,
          label: `5xx % of ${cellId} in ${az}`,
        });
        this.alarms.push(
          errorRate.createAlarm(this, `ErrorRate-${cellId}-${az}`, {
            alarmName: names.errorRate,
            alarmDescription: `Error rate of cell ${cellId} in ${az} above ${thresholds.errorRatePercent}%: halt the rollout`,
            threshold: thresholds.errorRatePercent,
            evaluationPeriods: thresholds.evaluationPeriods,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
          metric("HttpRequestDurationMs", "p99").createAlarm(this, `P99-${cellId}-${az}`, {
            alarmName: names.p99Latency,
            alarmDescription: `p99 latency of cell ${cellId} in ${az} above ${thresholds.p99LatencyMs} ms: halt the rollout`,
            threshold: thresholds.p99LatencyMs,
            evaluationPeriods: thresholds.evaluationPeriods,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
      }
    }
    if (props.regionalFailover) addRegionalFailover(this, this.zone, props.regionalFailover);
    new CfnOutput(this, "HostedZoneId", { value: this.zone.hostedZoneId });
  }
}
