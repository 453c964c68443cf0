/**
 * A bounded admission queue: at most `concurrency` jobs run at once and at most `capacity` more
 * wait, in arrival order. A job arriving when both are full is refused at once (the service
 * answers 429 with a `Retry-After` estimated from recent job durations). A waiting job whose
 * signal aborts (client gone, deadline) leaves the queue without ever running.
 *
 * @module
 */

/** Why {@link BoundedQueue.acquire} gave up on a waiting job. */
export class QueueAbortError extends Error {
  /** The signal's reason. */
  readonly reason: unknown;
  /** Creates the error. */
  constructor(reason: unknown) {
    super(`left the queue: ${String(reason)}`);
    this.name = "QueueAbortError";
    this.reason = reason;
  }
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Counters of a {@link BoundedQueue}. */
export interface QueueStats {
  running: number;
  waiting: number;
  concurrency: number;
  capacity: number;
  /** Jobs admitted (ran or are running). */
  admitted: number;
  /** Jobs refused because the queue was full. */
  rejected: number;
  /** Waiting jobs whose signal aborted before they ran. */
  abandoned: number;
  /** Exponentially weighted mean job duration (ms), 0 before the first job. */
  meanJobMs: number;
}

/** At most `concurrency` running, at most `capacity` waiting; the rest refused. */
export class BoundedQueue {
  readonly concurrency: number;
  readonly capacity: number;
  #running = 0;
  #waiting: Waiter[] = [];
  #admitted = 0;
  #rejected = 0;
  #abandoned = 0;
  #meanMs = 0;

  /** Creates a queue (`concurrency` ≥ 1, `capacity` ≥ 0). */
  constructor(concurrency: number, capacity: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer ≥ 1`);
    }
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be an integer ≥ 0`);
    }
    this.concurrency = concurrency;
    this.capacity = capacity;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Asks for a slot. Returns `undefined` when the queue is full (refuse the request), else a
   * promise of the `release` function to call exactly once when the job ends. The promise rejects
   * with a {@link QueueAbortError} when `signal` aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> | undefined {
    if (signal?.aborted) {
      return Promise.reject(new QueueAbortError(signal.reason));
    }
    if (this.#running < this.concurrency) {
      this.#running++;
      this.#admitted++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.capacity) {
      this.#rejected++;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          // removed explicitly, not with `once`: in Deno 2.9, while a listener is attached to an
          // AbortSignal.any(...) holding an AbortSignal.timeout, the timer keeps the process
          // alive, and a `once` listener's automatic removal does not release it
          signal.removeEventListener("abort", w.onAbort!);
          const i = this.#waiting.indexOf(w);
          if (i >= 0) {
            this.#waiting.splice(i, 1);
            this.#abandoned++;
            reject(new QueueAbortError(signal.reason));
          }
        };
        signal.addEventListener("abort", w.onAbort);
      }
      this.#waiting.push(w);
    });
  }

  /** Seconds a refused client should wait: the queue's backlog at the recent mean job time. */
  retryAfterSeconds(): number {
    const backlog = this.#running + this.#waiting.length;
    const ms = (this.#meanMs || 1000) * Math.max(1, backlog) / this.concurrency;
    return Math.min(60, Math.max(1, Math.ceil(ms / 1000)));
  }

  /** The counters. */
  stats(): QueueStats {
    return {
      running: this.#running,
      waiting: this.#waiting.length,
      concurrency: this.concurrency,
      capacity: this.capacity,
      admitted: this.#admitted,
      rejected: this.#rejected,
      abandoned: this.#abandoned,
      meanJobMs: Math.round(this.#meanMs * 10) / 10,
    };
  }

  #releaser(): () => void {
    const start = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const ms = performance.now() - start;
      this.#meanMs = this.#meanMs === 0 ? ms : 0.8 * this.#meanMs + 0.2 * ms;
      this.#running--;
      this.#next();
    };
  }

  #next(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const w = this.#waiting.shift()!;
      if (w.signal && w.onAbort) {
        w.signal.removeEventListener("abort", w.onAbort);
      }
      if (w.signal?.aborted) {
        this.#abandoned++;
        w.reject(new QueueAbortError(w.signal.reason));
        continue;
      }
      this.#running++;
      this.#admitted++;
      w.resolve(this.#releaser());
    }
  }
}
