import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

/**
 * OpenTelemetry tracing for every Cellwallet process, configured by the standard OTEL_* variables and OFF unless
 * an OTLP endpoint is named (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). While off, the
 * SDK is not even loaded and every helper below returns at its first line: the money path pays one boolean
 * test per call.
 */
let enabled = false;

export function tracingEnabled(): boolean {
  return enabled;
}

/** True when the environment asks for traces (an OTLP endpoint, and neither OTEL_SDK_DISABLED nor exporter none). */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").toLowerCase() === "true") return false;
  if ((env.OTEL_TRACES_EXPORTER ?? "otlp").toLowerCase() === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface TracingOptions {
  /** Instrument the AWS SDK (DynamoDB calls become CLIENT spans); the SDK must not be loaded yet. */
  awsSdk?: boolean;
}

export interface Tracing {
  /** Exports what is buffered and stops (call before the process exits). */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK when the environment asks for it: spans batched to OTLP/HTTP (JSON) at the standard endpoint,
 * W3C traceparent propagation, AsyncLocalStorage context. `attributes` become resource attributes (cell.id,
 * az, service.version); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are honoured as usual.
 */
export async function startTracing(
  serviceName: string,
  attributes: Attributes,
  env: NodeJS.ProcessEnv = process.env,
  options: TracingOptions = {},
): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const resource = resources
    .resourceFromAttributes({ "service.name": serviceName, ...attributes })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  if (options.awsSdk) {
    // The AWS SDK's own instrumentation: it patches the SDK's client classes when they are first required, so
    // the process must load the SDK after this (cell-service's main imports its store adapters afterwards).
    const [{ registerInstrumentations }, { AwsInstrumentation }] = await Promise.all([
      import("@opentelemetry/instrumentation"),
      import("@opentelemetry/instrumentation-aws-sdk"),
    ]);
    registerInstrumentations({ tracerProvider: provider, instrumentations: [new AwsInstrumentation()] });
  }
  enabled = true;
  return {
    shutdown: async () => {
      enabled = false;
      await provider.shutdown();
    },
  };
}

const tracer = () => trace.getTracer("cellwallet");

function ended<T>(span: Span, run: () => Promise<T>): Promise<T> {
  return run().then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
      throw error;
    },
  );
}

/** Runs `run` inside a child span of the active one when tracing is on; otherwise just runs it. */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  run: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!enabled) return run();
  return tracer().startActiveSpan(name, { kind, attributes }, (span) => ended(span, run));
}

/**
 * Runs a request handler inside a SERVER span continuing the caller's W3C trace context (`traceparent`,
 * `tracestate`); when tracing is off, `run` gets undefined and runs as is.
 */
export function withServerSpan<T>(
  name: string,
  carrier: { traceparent?: string | undefined; tracestate?: string | undefined },
  attributes: Attributes,
  run: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return run(undefined);
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  return context.with(parent, () =>
    tracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, (span) => ended(span, () => run(span))),
  );
}

/** Adds the active span's W3C trace context to outgoing headers (no-op when tracing is off). */
export function injectTraceContext(headers: Record<string, string>): void {
  if (enabled) propagation.inject(context.active(), headers);
}

/** The active span's traceparent, when tracing is on and a span is active. */
export function activeTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Records an event on the active span (the router's relocation re-forward, for instance). */
export function addSpanEvent(name: string, attributes?: Attributes): void {
  if (enabled) trace.getActiveSpan()?.addEvent(name, attributes);
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/**
 * trace_id and span_id for a log line: the active span's when tracing is on, otherwise the ids of the
 * request's traceparent header (the caller's span), so that logs correlate with traces either way.
 */
export function logTraceIds(traceparent: string | undefined): { trace_id: string; span_id: string } | undefined {
  if (enabled) {
    const ctx = trace.getActiveSpan()?.spanContext();
    if (ctx && trace.isSpanContextValid(ctx)) return { trace_id: ctx.traceId, span_id: ctx.spanId };
  }
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  return m ? { trace_id: m[1] as string, span_id: m[2] as string } : undefined;
}

export { type Span, SpanKind };
