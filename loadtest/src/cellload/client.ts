import { Agent, request } from "undici";

/**
 * The measured HTTP path: undici with a keep-alive pool sized for the run. An
 * answer is read whole (bodies are small JSON) so its time includes the body.
 */
export interface Answer {
  /** 0 when no HTTP answer came (connection refused, reset, timeout). */
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  /** Transport error code or message when status is 0. */
  error?: string;
}

export class LoadClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    options: { connections: number; timeoutMs: number },
  ) {
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 10_000) },
    });
  }

  async send(
    method: "GET" | "POST",
    path: string,
    token: string | undefined,
    options: { body?: string; idempotencyKey?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        method,
        headers,
        dispatcher: this.agent,
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
      const text = await res.body.text();
      return { status: res.statusCode, text, headers: res.headers };
    } catch (error) {
      const e = error as Error & { code?: string };
      return { status: 0, text: "", headers: {}, error: e.code ?? e.message };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The `code` of a problem+json body, "-" when there is none. */
export function problemCode(text: string): string {
  try {
    const parsed = JSON.parse(text) as { code?: unknown };
    return typeof parsed.code === "string" ? parsed.code : "-";
  } catch {
    return "-";
  }
}
