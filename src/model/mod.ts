/**
 * Models: `loadModel` (path, URL or bytes + manifest), manifest validation, and the time and
 * prediction-type conversions of one network evaluation.
 *
 * @module
 */

export { loadModel, type LoadModelOptions } from "./load.ts";
export {
  type ConditioningValue,
  type GuidanceOptions,
  Model,
  type ModelSessionOptions,
  type SessionKind,
} from "./model.ts";
export {
  completeSde,
  type ExtraInput,
  type ExtraInputDtype,
  type ModelManifest,
  type NetworkDtype,
  type Precondition,
  type PredictionType,
  type TimeDtype,
  type TimeSpec,
  validateManifest,
} from "./manifest.ts";
export {
  dataMap,
  edmCoefficients,
  type EpsMap,
  epsMap,
  type EvalPoint,
  inputScale,
  predictionToEps,
  roundHalfEven,
  timeInput,
} from "./convert.ts";
export { Decoder, type DecoderSpec, validateDecoder } from "./decoder.ts";
