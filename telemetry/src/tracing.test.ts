import { describe, expect, it } from "vitest";
import {
  activeTraceparent,
  injectTraceContext,
  logTraceIds,
  tracingEnabled,
  tracingRequested,
  withSpan,
} from "./index.js";

describe("tracing switched off (the default)", () => {
  it("is requested only by an OTLP endpoint, and not when disabled", () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "true" })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_TRACES_EXPORTER: "none" })).toBe(false);
  });

  it("runs work as is and adds no header", async () => {
    expect(tracingEnabled()).toBe(false);
    expect(await withSpan("x", {}, async () => 42)).toBe(42);
    const headers: Record<string, string> = {};
    injectTraceContext(headers);
    expect(headers).toEqual({});
    expect(activeTraceparent()).toBeUndefined();
  });

  it("gives log lines the trace and span ids of the request's traceparent", () => {
    expect(logTraceIds("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toEqual({
      trace_id: "0af7651916cd43dd8448eb211c80319c",
      span_id: "b7ad6b7169203331",
    });
    expect(logTraceIds("garbage")).toBeUndefined();
    expect(logTraceIds(undefined)).toBeUndefined();
  });
});
