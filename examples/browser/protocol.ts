/**
 * Messages between the page (`main.ts`) and the sampling worker (`worker.ts`).
 *
 * @module
 */

import type { BackendName, ModelManifest, Plan } from "../../mod.ts";

/** Page → worker. */
export type ToWorker =
  | { type: "load"; url: string }
  | {
    type: "generate";
    id: number;
    /** The plan, as `planToJSON` text. */
    plan: string;
    n: number;
    seed?: number;
    backend: "auto" | "webgpu" | "wasm";
    guidance?: number;
    conditioning?: Record<string, number>;
    denoiseFinal: boolean;
  }
  | { type: "abort"; id: number };

/** An error, flattened for postMessage (ConfigError and ModelError carry `field`). */
export interface ErrorInfo {
  name: string;
  message: string;
  field?: string;
}

/** Worker → page. */
export type FromWorker =
  | {
    type: "loaded";
    manifest: ModelManifest;
    /** The WebGPU adapter, described, or null when there is none. */
    adapter: string | null;
    ms: number;
  }
  | { type: "load-error"; error: ErrorInfo }
  | { type: "started"; id: number; backend: BackendName }
  | {
    type: "progress";
    id: number;
    step: number;
    steps: number;
    nfe: number;
    t: number;
  }
  | {
    type: "done";
    id: number;
    data: Float32Array | Float64Array;
    shape: number[];
    backend: BackendName;
    backendReason?: string;
    /** Set when WebGPU was tried first and failed, so WASM ran instead. */
    fallback?: string;
    seed: number;
    nfe: number;
    timings: {
      network: number;
      update: number;
      readback: number;
      total: number;
    };
    /** Wall-clock ms in the worker, including session creation on the first run. */
    wall: number;
  }
  | { type: "error"; id: number; error: ErrorInfo };

/** The plan type, re-exported for the page. */
export type { Plan };
