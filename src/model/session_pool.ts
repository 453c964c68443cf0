/**
 * onnxruntime sessions of one ONNX network, created once per execution provider on demand, with
 * runs serialised (a session is not re-entrant) and every session released on dispose. A model and
 * its decoder each hold one pool.
 *
 * @module
 */

import type { OrtSession } from "../runtime/ort.ts";

/** Execution providers a session can be created for. */
export type SessionKind = "webgpu" | "wasm" | "native";

/** Sessions per execution provider, and a queue that runs one job at a time. */
export class SessionPool {
  readonly #sessions = new Map<SessionKind, Promise<OrtSession>>();
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The session for `kind`, made by `create` the first time (a failed creation is retried next time). */
  session(kind: SessionKind, create: () => Promise<OrtSession>): Promise<OrtSession> {
    let s = this.#sessions.get(kind);
    if (!s) {
      s = create();
      this.#sessions.set(kind, s);
      s.catch(() => this.#sessions.delete(kind));
    }
    return s;
  }

  /** Runs `job` after every job queued before it (a failure does not block later jobs). */
  serialise<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Waits for queued jobs, then releases every session. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue;
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of all) {
      try {
        await (await s).release();
      } catch {
        // creation failed: nothing to release
      }
    }
  }
}
