import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One span as an OTLP/HTTP exporter sent it, with its attributes and its resource's as plain maps. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, string>;
  resource: Record<string, string>;
  events?: { name: string; attributes?: KeyValue[] }[];
}

export type KeyValue = {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
};

export const toMap = (kvs: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (kvs ?? []).map((kv) => [kv.key, String(kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue ?? "")]),
  );

export interface OtlpReceiver {
  server: Server;
  url: string;
  spans: ReceivedSpan[];
  requests: string[];
}

/**
 * A real OTLP/HTTP receiver on loopback: decodes what the processes' exporters POST to /v1/traces (the JSON
 * encoding of OTLP, `http/json`, which @opentelemetry/exporter-trace-otlp-http sends). Point a process at it with
 * OTEL_EXPORTER_OTLP_ENDPOINT=<url>.
 */
export function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      requests.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const doc = JSON.parse(body.toString("utf8")) as {
        resourceSpans: {
          resource?: { attributes?: KeyValue[] };
          scopeSpans: { spans: (Omit<ReceivedSpan, "attributes" | "resource"> & { attributes?: KeyValue[] })[] }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const resource = toMap(rs.resource?.attributes);
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) spans.push({ ...s, attributes: toMap(s.attributes), resource });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}`, spans, requests });
    }),
  );
}
