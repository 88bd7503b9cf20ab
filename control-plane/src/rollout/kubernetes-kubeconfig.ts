/**
 * Just enough of a kubeconfig to reach one API server: the current context's cluster (server, CA,
 * insecure-skip-tls-verify, tls-server-name) and user (bearer token or token file, client certificate and
 * key, or an exec credential plugin such as `aws eks get-token`, which is what `aws eks update-kubeconfig`
 * writes). Paths in the file are relative to the file, as kubectl reads them. Auth providers (the
 * deprecated `auth-provider` stanza) and proxies are not supported and are refused with a clear error.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";

export interface ExecCredentialPlugin {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
  baseDir: string;
}

export interface ClusterAccess {
  /** The kubeconfig file it came from. */
  source: string;
  context: string;
  server: string;
  namespace?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  token?: string;
  exec?: ExecCredentialPlugin;
}

export class KubeconfigError extends Error {}

/**
 * The kubeconfig file to use: the one named, else the first existing file of `$KUBECONFIG` when it is set,
 * else `~/.kube/config`; undefined when there is none (no cluster: the driver only diffs synthesized releases).
 */
export function findKubeconfig(named: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (named !== undefined) {
    if (!existsSync(named)) throw new KubeconfigError(`kubeconfig ${named} does not exist`);
    return named;
  }
  if (env.KUBECONFIG) {
    // as kubectl: when $KUBECONFIG is set, ~/.kube/config is not read (files are not merged here: the first wins)
    return env.KUBECONFIG.split(delimiter).find((p) => p !== "" && existsSync(p));
  }
  const home = env.HOME ?? homedir();
  const fallback = join(home, ".kube", "config");
  return existsSync(fallback) ? fallback : undefined;
}

type Named<T> = { name?: string } & T;
interface KubeconfigFile {
  "current-context"?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>[];
  clusters?: Named<{
    cluster?: {
      server?: string;
      "certificate-authority"?: string;
      "certificate-authority-data"?: string;
      "insecure-skip-tls-verify"?: boolean;
      "tls-server-name"?: string;
      "proxy-url"?: string;
    };
  }>[];
  users?: Named<{
    user?: {
      token?: string;
      tokenFile?: string;
      "client-certificate"?: string;
      "client-certificate-data"?: string;
      "client-key"?: string;
      "client-key-data"?: string;
      exec?: { command?: string; args?: string[]; env?: { name: string; value: string }[]; apiVersion?: string };
      "auth-provider"?: unknown;
    };
  }>[];
}

/** Reads the current context of a kubeconfig file (or `context` when named). */
export function readKubeconfig(file: string, context?: string): ClusterAccess {
  let config: KubeconfigFile;
  try {
    config = (parse(readFileSync(file, "utf8")) ?? {}) as KubeconfigFile;
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(error as Error).message}`);
  }
  const baseDir = dirname(file);
  const path = (p: string) => (isAbsolute(p) ? p : join(baseDir, p));
  const contextName = context ?? config["current-context"];
  if (!contextName) throw new KubeconfigError(`kubeconfig ${file} has no current-context`);
  const ctx = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!ctx) throw new KubeconfigError(`kubeconfig ${file} has no context ${contextName}`);
  const cluster = config.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new KubeconfigError(`kubeconfig ${file}: context ${contextName} has no cluster server`);
  if (cluster["proxy-url"]) throw new KubeconfigError(`kubeconfig ${file}: proxy-url is not supported`);
  const user = config.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user["auth-provider"]) {
    throw new KubeconfigError(`kubeconfig ${file}: auth-provider is not supported (use an exec plugin or a token)`);
  }
  const data = (inline: string | undefined, fromFile: string | undefined) =>
    inline ? Buffer.from(inline, "base64") : fromFile ? readFileSync(path(fromFile)) : undefined;
  const access: ClusterAccess = {
    source: file,
    context: contextName,
    server: cluster.server.replace(/\/+$/, ""),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
  };
  const ca = data(cluster["certificate-authority-data"], cluster["certificate-authority"]);
  const cert = data(user["client-certificate-data"], user["client-certificate"]);
  const key = data(user["client-key-data"], user["client-key"]);
  const token = user.token ?? (user.tokenFile ? readFileSync(path(user.tokenFile), "utf8").trim() : undefined);
  if (ctx.namespace) access.namespace = ctx.namespace;
  if (ca) access.ca = ca;
  if (cert) access.cert = cert;
  if (key) access.key = key;
  if (cluster["tls-server-name"]) access.tlsServerName = cluster["tls-server-name"];
  if (token) access.token = token;
  if (user.exec) {
    if (!user.exec.command) throw new KubeconfigError(`kubeconfig ${file}: exec without a command`);
    access.exec = {
      command: user.exec.command,
      args: user.exec.args ?? [],
      env: Object.fromEntries((user.exec.env ?? []).map((e) => [e.name, e.value])),
      apiVersion: user.exec.apiVersion ?? "client.authentication.k8s.io/v1",
      baseDir,
    };
  }
  return access;
}

export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined: valid for this process's life. */
  expiresAt?: number;
}

/** Runs an exec credential plugin (client.authentication.k8s.io ExecCredential on stdout). */
export function runExecPlugin(plugin: ExecCredentialPlugin): Promise<ExecCredential> {
  const request = { apiVersion: plugin.apiVersion, kind: "ExecCredential", spec: { interactive: false } };
  return new Promise((resolve, reject) => {
    execFile(
      plugin.command,
      plugin.args,
      {
        cwd: plugin.baseDir,
        env: { ...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: JSON.stringify(request) },
        timeout: 60_000,
        maxBuffer: 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new KubeconfigError(`credential plugin ${plugin.command} failed: ${stderr.trim() || error.message}`));
          return;
        }
        try {
          const status = (JSON.parse(stdout) as { status?: Record<string, string> }).status ?? {};
          const credential: ExecCredential = {};
          if (status.token) credential.token = status.token;
          if (status.clientCertificateData) credential.cert = Buffer.from(status.clientCertificateData);
          if (status.clientKeyData) credential.key = Buffer.from(status.clientKeyData);
          if (status.expirationTimestamp) credential.expiresAt = Date.parse(status.expirationTimestamp);
          if (!credential.token && !credential.cert) throw new Error("no token and no client certificate in status");
          resolve(credential);
        } catch (error) {
          reject(
            new KubeconfigError(`credential plugin ${plugin.command}: bad ExecCredential: ${(error as Error).message}`),
          );
        }
      },
    );
  });
}
