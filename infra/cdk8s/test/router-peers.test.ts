import { describe, expect, it } from "vitest";
import { DEFAULT_PLATFORM, type Manifest, type PlatformConfig, platformManifests } from "../src/index.js";

/** Each router pod is told how many routers share the traffic (onboarding's ops/s rule, docs/capacity.md). */
describe("router peers", () => {
  it("sets ROUTER_PEERS to every router pod of every AZ", () => {
    const config: PlatformConfig = { ...DEFAULT_PLATFORM, azs: ["az-a", "az-b", "az-c"] };
    const routers = platformManifests(config).filter(
      (m: Manifest) =>
        m.kind === "Deployment" &&
        ((m.metadata.labels ?? {}) as Record<string, string>)["app.kubernetes.io/component"] === "router",
    );
    expect(routers).toHaveLength(3);
    // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON
    const total = routers.reduce((sum: number, m: Manifest) => sum + (m.spec as any).replicas, 0);
    expect(total).toBeGreaterThanOrEqual(3);
    for (const m of routers) {
      // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON
      const env = (m.spec as any).template.spec.containers[0].env as { name: string; value?: string }[];
      expect(env.find((e) => e.name === "ROUTER_PEERS")?.value).toBe(String(total));
    }
  });
});
