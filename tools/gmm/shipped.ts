/**
 * The GMM models shipped in `models/`, with everything needed to rebuild them byte for byte.
 *
 * @module
 */

import type { ReferenceSdeSpec } from "../../testing/reference/mod.ts";
import { buildGmmArtifacts, type GmmArtifacts, readSpecFile } from "./build.ts";
import type { GmmDtype } from "./graph.ts";

/** One shipped model: its directory under the repository root, spec file, SDE and dtype. */
export interface ShippedGmmModel {
  /** Model name = directory name under `models/`. */
  name: string;
  /** Spec path relative to the repository root. */
  spec: string;
  sde: ReferenceSdeSpec;
  dtype: GmmDtype;
}

const vpLinear: ReferenceSdeSpec = {
  name: "vp-linear",
  betaMin: 0.1,
  betaMax: 20,
};

/** All shipped GMM models. */
export const SHIPPED_GMM_MODELS: readonly ShippedGmmModel[] = [
  {
    name: "gmm-2d",
    spec: "tools/gmm/specs/gmm-2d.json",
    sde: vpLinear,
    dtype: "float32",
  },
  {
    name: "gmm-2d-f64",
    spec: "tools/gmm/specs/gmm-2d.json",
    sde: vpLinear,
    dtype: "float64",
  },
  {
    name: "gmm-64d",
    spec: "tools/gmm/specs/gmm-64d.json",
    sde: vpLinear,
    dtype: "float32",
  },
  {
    name: "gmm-64d-f64",
    spec: "tools/gmm/specs/gmm-64d.json",
    sde: vpLinear,
    dtype: "float64",
  },
  {
    name: "gmm-image",
    spec: "tools/gmm/specs/gmm-image.json",
    sde: vpLinear,
    dtype: "float32",
  },
];

/** The repository root (two levels above this file). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname
  .replace(/\/$/, "");

/** Builds a shipped model's files in memory from its committed spec. */
export async function buildShipped(
  m: ShippedGmmModel,
  root: string = REPO_ROOT,
): Promise<GmmArtifacts> {
  const parsed = await readSpecFile(`${root}/${m.spec}`);
  return buildGmmArtifacts({
    parsed,
    sde: m.sde,
    dtype: m.dtype,
    name: m.name,
  });
}
