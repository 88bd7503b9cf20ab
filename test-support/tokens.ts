import { DEVELOPMENT_JWT_SECRET, mintToken } from "../contract/src/index.js";

export const TEST_JWT_SECRET = DEVELOPMENT_JWT_SECRET;

export function token(sub: string, scope = "wallet", secret = TEST_JWT_SECRET): Promise<string> {
  return mintToken({ sub, scopes: scope.split(" ").filter(Boolean), secret, ttlSeconds: 3600 });
}
