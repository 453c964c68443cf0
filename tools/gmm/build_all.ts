/**
 * Regenerates every shipped GMM model (`deno task gmm:all`) from the specs in `tools/gmm/specs/`.
 *
 * @module
 */

import { writeGmmArtifacts } from "./build.ts";
import { buildShipped, REPO_ROOT, SHIPPED_GMM_MODELS } from "./shipped.ts";

if (import.meta.main) {
  for (const m of SHIPPED_GMM_MODELS) {
    const a = await buildShipped(m);
    await writeGmmArtifacts(`${REPO_ROOT}/models/${m.name}`, a);
    console.log(
      `gmm:all: models/${m.name} (${m.dtype}, ${m.sde.name}, ${a.onnx.length} bytes)`,
    );
  }
}
