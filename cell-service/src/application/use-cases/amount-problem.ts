import { type AmountResult, type Problem, problem } from "@cellwallet/contract";

/**
 * A refused request amount: 400 invalid-amount when it is not an amount at all (the OpenAPI pattern
 * refuses it too), 422 amount-precision when it is one but has more decimals than the wallet's currency.
 */
export function amountProblem(refused: Extract<AmountResult, { ok: false }>): Problem {
  return problem(refused.tooPrecise ? "amount-precision" : "invalid-amount", refused.reason);
}
