/**
 * The method registry: one row per sampling method with everything the rest of the package needs to
 * know about it — its engine id, the orders and variants it accepts, how many network evaluations a
 * step costs, whether it has x-space rows, and its help text. Validation, the CLIs' usage lines, the
 * config fuzz test, the benchmarks and the docs read this table; nothing else lists methods.
 *
 * @module
 */

import type { MethodName, RkName, VariantName } from "./types.ts";

/** What the package knows about one method. */
export interface MethodInfo {
  /** The config name. */
  readonly name: MethodName;
  /**
   * The AssemblyScript engine's id (`M_*` in `assembly/tables.ts`, exported by the module and
   * checked against this table by a test); null where the engine has a builder of its own.
   */
  readonly engineId: number | null;
  /** Smallest and largest order r. */
  readonly orders: readonly [number, number];
  /** The order used when none is given. */
  readonly defaultOrder: number;
  /** Variants accepted by `variant` (first = default); empty when the key does not apply. */
  readonly variants: readonly VariantName[];
  /** Network evaluations per step (ρRK: the tableau's stages; see {@link evalsPerStep}). */
  readonly evalsPerStep: number | "stages";
  /** Whether λ > 0 (stochastic sampling) is available. */
  readonly stochastic: boolean;
  /** Whether plans carry x-space ε rows `[x_coef, c_0, …]` (else the program alone describes a step). */
  readonly rows: boolean;
  /** Whether the reference algorithm requires steps ≥ order. */
  readonly stepsAtLeastOrder: boolean;
  /** One line for usage texts and docs. */
  readonly help: string;
}

/** Every method, in the order usage texts list them. */
export const METHODS: readonly MethodInfo[] = [
  {
    name: "ddim",
    engineId: 0,
    orders: [0, 0],
    defaultOrder: 0,
    variants: [],
    evalsPerStep: 1,
    stochastic: true,
    rows: true,
    stepsAtLeastOrder: false,
    help: "DDIM (exponential integrator, ε constant per step); λ > 0 gives stochastic DDIM",
  },
  {
    name: "tab",
    engineId: 1,
    orders: [0, 3],
    defaultOrder: 3,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "tAB-DEIS: ε extrapolated by a Lagrange polynomial in t",
  },
  {
    name: "rhoab",
    engineId: 2,
    orders: [0, 3],
    defaultOrder: 3,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "ρAB-DEIS: ε extrapolated by a polynomial in ρ (closed form)",
  },
  {
    name: "logrho",
    engineId: 3,
    orders: [0, 3],
    defaultOrder: 3,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "log-ρ AB-DEIS: ε extrapolated by a polynomial in log ρ",
  },
  {
    name: "ipndm",
    engineId: 4,
    orders: [0, 3],
    defaultOrder: 3,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "iPNDM: constant-step Adams–Bashforth weights in ρ",
  },
  {
    name: "rhork",
    engineId: null,
    orders: [0, 0],
    defaultOrder: 0,
    variants: [],
    evalsPerStep: "stages",
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "ρRK-DEIS: explicit Runge–Kutta in ρ (tableau from rk)",
  },
  {
    name: "euler",
    engineId: 5,
    orders: [0, 0],
    defaultOrder: 0,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "baseline: Euler on the probability-flow ODE in t",
  },
  {
    name: "ei-score",
    engineId: 6,
    orders: [0, 0],
    defaultOrder: 0,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: true,
    stepsAtLeastOrder: false,
    help: "baseline: exponential integrator with the score held constant",
  },
  {
    name: "dpmpp",
    engineId: null,
    orders: [1, 3],
    defaultOrder: 2,
    variants: [],
    evalsPerStep: 1,
    stochastic: false,
    rows: false,
    stepsAtLeastOrder: true,
    help: "DPM-Solver++ multistep (x̂₀ extrapolated in λ = −log ρ; order 2 is 2M)",
  },
  {
    name: "unipc",
    engineId: null,
    orders: [1, 3],
    defaultOrder: 2,
    variants: ["bh2", "bh1"],
    evalsPerStep: 1,
    stochastic: false,
    rows: false,
    stepsAtLeastOrder: true,
    help: "UniPC: x̂₀ predictor plus a corrector that reuses the next evaluation",
  },
];

/** The ρRK tableaus and their stage counts. */
export const RK_TABLEAUS: Readonly<Record<RkName, number>> = {
  euler: 1,
  midpoint2: 2,
  heun2: 2,
  ralston3: 3,
  kutta3: 3,
  rk4: 4,
};

/** Method names, in registry order. */
export const METHOD_NAMES: readonly MethodName[] = METHODS.map((m) => m.name);

/** ρRK tableau names. */
export const RK_NAMES: readonly RkName[] = Object.keys(RK_TABLEAUS) as RkName[];

/**
 * The registry row of a method (undefined for an unknown name).
 *
 * @example
 * ```ts
 * import { methodInfo } from "@seed/deis/plan";
 * console.log(methodInfo("unipc")?.variants); // ["bh2", "bh1"]
 * ```
 */
export function methodInfo(name: unknown): MethodInfo | undefined {
  return METHODS.find((m) => m.name === name);
}

/** Network evaluations per step of a method (with its ρRK tableau). */
export function evalsPerStep(method: MethodName, rk: RkName = "rk4"): number {
  const info = methodInfo(method)!;
  return info.evalsPerStep === "stages" ? RK_TABLEAUS[rk] : info.evalsPerStep;
}

/** `ddim|tab|…`: method names for usage lines. */
export function methodChoices(): string {
  return METHOD_NAMES.join("|");
}

/** One line per method (`name  orders  help`), for `--help` texts and docs. */
export function methodHelp(): string {
  return METHODS.map((m) => {
    const orders = m.orders[0] === m.orders[1]
      ? ""
      : ` (order ${m.orders[0]}..${m.orders[1]}, default ${m.defaultOrder})`;
    const variants = m.variants.length ? ` variant ${m.variants.join("|")}` : "";
    return `  ${m.name.padEnd(9)}${m.help}${orders}${variants}`;
  }).join("\n");
}
