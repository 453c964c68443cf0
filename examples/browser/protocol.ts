/**
 * Messages between the page (`main.ts`) and the sampling worker (`worker.ts`), and the model
 * catalogue (`models.json`) the build writes. Types only: the page's bundle must not pull the SDK's
 * model or runtime code in through this file.
 *
 * @module
 */

import type { BackendName } from "../../src/backends/types.ts";
import type { ModelManifest } from "../../src/model/manifest.ts";

/** One model of `models.json`: a folder under `model/` with a float32 and maybe a float16 manifest. */
export interface CatalogModel {
  /** Folder name under `model/`, e.g. `latent-mnist`. */
  id: string;
  /** Where it came from in the repository, e.g. `models/latent-mnist`. */
  source: string;
  /** The float32 manifest's file name (`model.json`). */
  float32: string;
  /** The float16 manifest's file name (`model.fp16.json`), when the model has one. */
  float16?: string;
}

/** The backend the user picked. */
export type BackendChoiceName = "auto" | "webgpu" | "wasm";

/** Which network ran, and why. */
export interface NetworkInfo {
  /** The manifest file, e.g. `model.fp16.json`. */
  file: string;
  dtype: "float32" | "float16" | "float64";
  /** Why this manifest was chosen, for the page. */
  reason: string;
}

/** Page → worker. */
export type ToWorker =
  | {
    type: "load";
    /** The model folder's URL (ending in `/`). */
    url: string;
    model: CatalogModel;
    /** The backend currently chosen, so that the network the first run needs is the one fetched. */
    backend: BackendChoiceName;
  }
  | {
    type: "generate";
    id: number;
    /** The plan, as `planToJSON` text. */
    plan: string;
    n: number;
    seed?: number;
    backend: BackendChoiceName;
    guidance?: number;
    /** Per input: one value for every sample, or one per sample. */
    conditioning?: Record<string, number | number[]>;
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
    network: NetworkInfo;
    /** The WebGPU adapter, described, or null when there is none. */
    adapter: string | null;
    /** Whether the adapter offers `shader-f16` (float16 arithmetic in shaders). */
    shaderF16: boolean;
    ms: number;
  }
  | { type: "load-error"; error: ErrorInfo }
  | { type: "started"; id: number; backend: BackendName; network: NetworkInfo }
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
    /** What is drawn: the decoded images when the model has a decoder, else the samples. */
    data: Float32Array | Float64Array;
    shape: number[];
    /** True when `data` is the decoder's output. */
    decoded: boolean;
    backend: BackendName;
    backendReason?: string;
    network: NetworkInfo;
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
