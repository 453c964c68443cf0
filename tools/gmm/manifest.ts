/**
 * The `model.json` manifest of a GMM model (docs/MODEL_FORMAT.md), carrying the mixture itself
 * under the key `gmm` so that tests can compute the exact ε in float64 without reading the ONNX file.
 *
 * @module
 */

import { referenceSde, type ReferenceSdeSpec } from "../../testing/reference/mod.ts";
import { GMM_IO, type GmmDtype } from "./graph.ts";
import type { ParsedSpec } from "./spec.ts";

/** The manifest object of a GMM model. */
export interface GmmManifest {
  format: "deis-model/1";
  name: string;
  onnx: string;
  sde: ReferenceSdeSpec;
  tStart: number;
  tEnd: number;
  time: { kind: "continuous"; scale: 1 };
  prediction: "eps";
  sampleShape: number[];
  dtype: GmmDtype;
  inputs: { x: string; t: string };
  output: string;
  extraInputs: [];
  dataRange: [number, number];
  /** The mixture: weights, means, stds, shape (the spec, shape filled in). */
  gmm: ParsedSpec["spec"];
}

/** Builds the manifest. `sde` must have its parameters filled in (see `referenceSde(...).spec`). */
export function gmmManifest(
  name: string,
  parsed: ParsedSpec,
  sde: ReferenceSdeSpec,
  dtype: GmmDtype,
): GmmManifest {
  const schedule = referenceSde(sde);
  return {
    format: "deis-model/1",
    name,
    onnx: "model.onnx",
    sde: { ...schedule.spec },
    tStart: schedule.tStart,
    tEnd: schedule.tEnd,
    time: { kind: "continuous", scale: 1 },
    prediction: "eps",
    sampleShape: [...parsed.spec.shape],
    dtype,
    inputs: { x: GMM_IO.x, t: GMM_IO.t },
    output: GMM_IO.output,
    extraInputs: [],
    dataRange: parsed.dataRange,
    gmm: parsed.spec,
  };
}

/** Serialises a manifest deterministically (2-space JSON, trailing newline). */
export function manifestText(m: GmmManifest): string {
  return JSON.stringify(m, null, 2) + "\n";
}
