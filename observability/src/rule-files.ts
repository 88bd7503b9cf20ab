import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { RULE_FILES, RULES_DIR } from "./paths.js";

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The groups of one rule file. */
export function readRuleGroups(file: string, dir = RULES_DIR): RuleGroup[] {
  return (parse(readFileSync(join(dir, file), "utf8")) as { groups: RuleGroup[] }).groups;
}

/** Every rule of every rule file Prometheus loads. */
export function allRules(): Rule[] {
  return RULE_FILES.flatMap((f) => readRuleGroups(f).flatMap((g) => g.rules));
}
