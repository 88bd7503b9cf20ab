import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";

/** A connection that cannot be opened within this long is a failed attempt (retried by the SDK). */
export const CONNECTION_TIMEOUT_MS = 3_000;
/** A request that gets no answer within this long is a failed attempt (retried by the SDK). */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface DynamoDbClientOptions {
  /** Local emulators (moto); absent in AWS. */
  endpoint?: string;
  region?: string;
  /** Explicit credentials (the local platform's settings); otherwise the SDK's chain, or emulator defaults. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per call, throttling, 5xx and network errors included; default the SDK's (3, or AWS_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Where AWS_REGION and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY pair are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The one way the repo builds a DynamoDB client. Socket timeouts turn a hung connection into a failed attempt,
 * which the SDK's standard retry policy (exponential backoff with jitter, on throttling, 5xx and network errors)
 * resends with the same ClientRequestToken, so a retried transaction is applied at most once.
 */
export function createDynamoDbClient(options: DynamoDbClientOptions = {}): DynamoDBClient {
  const env = options.env ?? process.env;
  const config: DynamoDBClientConfig = {
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  };
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? env.AWS_REGION ?? "us-east-1";
    // Emulators accept any credentials; real AWS never gets here (no endpoint).
    if (options.credentials !== undefined) config.credentials = options.credentials;
    else if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = { accessKeyId: "test", secretAccessKey: "test" };
    }
  } else {
    if (options.region !== undefined) config.region = options.region;
    if (options.credentials !== undefined) config.credentials = options.credentials;
  }
  return new DynamoDBClient(config);
}
