import { isValidUserId, mintToken, SCOPES } from "@cellwallet/contract";
import { Command, InvalidArgumentError } from "commander";
import { operatorName, recordOperatorAction, signingSecret } from "./cli-env.js";

// wallet:internal is for service tokens between cells and router, never minted for users.
const KNOWN_SCOPES = new Set<string>([SCOPES.wallet, SCOPES.operator, SCOPES.auditor]);

function parseTtl(value: string): number {
  const match = /^([0-9]+)([smhd]?)$/.exec(value);
  if (!match) throw new InvalidArgumentError("use seconds or a number with s, m, h or d (e.g. 15m)");
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? ""] ?? 1;
  const seconds = Number(match[1]) * unit;
  if (seconds < 1 || seconds > 30 * 86400) throw new InvalidArgumentError("between 1 second and 30 days");
  return seconds;
}

/** `cellctl token`: mints a local HS256 token (development and tests only). */
export function tokenCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("token")
    .description("Mint a local development bearer token (HS256, signed with WALLET_JWT_SECRET)")
    .requiredOption("--sub <userId>", "the subject: a user id, or an operator/service name")
    .option("--scope <scopes>", 'space-separated scopes: "wallet", "wallet:operator", "wallet:auditor"', "wallet")
    .option("--ttl <duration>", "lifetime, e.g. 3600, 15m, 12h (max 30d)", parseTtl, 3600)
    .addHelpText(
      "after",
      `
Examples:
  $ cellctl token --sub alice
  $ cellctl token --sub ops-jane --scope "wallet:operator" --ttl 15m
  $ curl -H "Authorization: Bearer $(cellctl token --sub alice)" localhost:8080/api/v1/wallets?userId=alice

Production mode (WALLET_MODE=production or NODE_ENV=production) refuses to sign
with the development secret: production tokens come from your identity provider.

Exit status: 0 minted, 1 refused (production mode's secret rules), 2 usage or the mint could not be
recorded (the operator audit trail in the placement registry cannot be reached): no token is printed.`,
    )
    .action(async (options: { sub: string; scope: string; ttl: number }, command: Command) => {
      if (!isValidUserId(options.sub))
        command.error("--sub must be 1..128 characters of A-Z a-z 0-9 . _ @ : -", { exitCode: 2 });
      const scopes = options.scope.split(" ").filter((s) => s.length > 0);
      const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
      if (scopes.length === 0 || unknown.length > 0) {
        command.error(
          `unknown scope(s): ${unknown.join(", ") || "(none given)"}; known: ${[...KNOWN_SCOPES].join(", ")}`,
          { exitCode: 2 },
        );
      }
      let secret: string;
      try {
        secret = signingSecret(env);
      } catch (error) {
        return command.error(`cellctl: ${(error as Error).message}`, { exitCode: 1 });
      }
      const token = await mintToken({
        sub: options.sub,
        scopes,
        secret,
        ttlSeconds: options.ttl,
        ...(env.WALLET_JWT_ISSUER ? { issuer: env.WALLET_JWT_ISSUER } : {}),
        ...(env.WALLET_JWT_AUDIENCE ? { audience: env.WALLET_JWT_AUDIENCE } : {}),
      });
      try {
        // Key use is recorded (never the token itself) before the token is handed out.
        await recordOperatorAction(
          env,
          {
            actor: operatorName(env),
            action: "token.mint",
            target: options.sub,
            details: { scopes, ttlSeconds: options.ttl },
            // The mint is a write: it may bring the registry into being (a standalone cell, before npm start).
          },
          { create: true },
        );
      } catch (error) {
        // The trail lives in the placement registry: not reaching it means the command could not run (2).
        command.error(`refusing to mint an unrecorded token: ${(error as Error).message}`, { exitCode: 2 });
      }
      process.stdout.write(`${token}\n`);
    });
}
