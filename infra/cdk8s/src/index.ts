export { Cell, type CellProps, type CellZone, checkovAccepted } from "./cell.js";
export * from "./config.js";
export { ControlPlaneJobs, OPERATOR_JOB_LABELS } from "./jobs.js";
export {
  buildPlatform,
  CellChart,
  type Manifest,
  NamespaceChart,
  platformManifests,
  RoutersChart,
  synthCellDeployment,
} from "./platform.js";
export { replicasPerAz, type StaticStabilityRule } from "./replicas.js";
export { Router, type RouterProps } from "./router.js";
export { DEFAULT_RESOURCES, type ResourceSpec, ZONE_LABEL } from "./workload.js";
