/**
 * Float64 references for testing samplers: SDE schedules, the exact ε of a Gaussian mixture,
 * its moments, and an adaptive Runge–Kutta solver of the probability-flow ODE.
 *
 * @module
 */

export {
  asReferenceSde,
  COSINE_S,
  type ReferenceSde,
  referenceSde,
  type ReferenceSdeName,
  type ReferenceSdeSpec,
} from "./sde.ts";
export {
  type Gmm,
  gmmEps,
  gmmEpsBatch,
  gmmFromSpec,
  gmmLogDensity,
  gmmMarginalMoments,
  gmmMoments,
  gmmResponsibilities,
  type GmmSpec,
  type Moments,
  sampleGmm,
} from "./gmm.ts";
export {
  type AdaptiveOptions,
  type AdaptiveResult,
  DORMAND_PRINCE_54,
  type EmbeddedTableau,
  integrateAdaptive,
  type OdeRhs,
} from "./rk.ts";
export {
  type EpsFunction,
  type ProbabilityFlowOptions,
  type ProbabilityFlowResult,
  solveProbabilityFlow,
} from "./probability_flow.ts";
export { type Rng, seededRng } from "./random.ts";
