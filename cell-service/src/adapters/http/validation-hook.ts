import { type FieldError, problem } from "@cellwallet/contract";
import type { Context } from "hono";
import { sendProblem } from "./respond.js";

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
}

const escapeSegment = (segment: PropertyKey) => String(segment).replaceAll("~", "~0").replaceAll("/", "~1");

/** Zod issues as RFC 9457 `errors`: JSON pointers into the body, `query/<name>` for query parameters. */
export function fieldErrors(target: string, issues: Issue[]): FieldError[] {
  const prefix = target === "json" ? "" : `${target}/`;
  const pointer = (path: PropertyKey[]) =>
    `${prefix}${target === "json" ? "/" : ""}${path.map(escapeSegment).join("/")}`;
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys" && issue.keys
      ? issue.keys.map((key) => ({ pointer: pointer([...issue.path, key]), detail: "is not a member of this request" }))
      : [{ pointer: pointer(issue.path), detail: issue.message }],
  );
}

/** The defaultHook of every route: a failed validation is a 400 validation-error problem. */
export function validationHook(
  result: { success: boolean; target: string; error?: { issues: Issue[] } },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const errors = fieldErrors(result.target, result.error?.issues ?? []);
  const first = errors[0];
  return sendProblem(
    c,
    problem("validation-error", first ? `${first.pointer || "body"}: ${first.detail}` : "the request is not valid", {
      errors,
    }),
  );
}
