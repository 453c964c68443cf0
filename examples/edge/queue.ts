/**
 * A bounded admission queue: at most `concurrency` jobs run at once and at most `capacity` more
 * wait, in arrival order. A job arriving when both are full is refused at once (the service
 * answers 429 with a `Retry-After` from {@link BoundedQueue.retryAfterSeconds}: the measured
 * throughput and the work queued). A waiting job whose signal aborts (client gone, deadline)
 * leaves the queue without ever running.
 *
 * Work is counted in units (the service uses n × network evaluations); running jobs report
 * their progress, and the throughput is units per millisecond of busy time, measured.
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

/** Ends a job (call exactly once; later calls do nothing); `progress` reports units done so far. */
export type Release = (() => void) & { progress(done: number): void };

interface Waiter {
  units: number;
  resolve: (release: Release) => void;
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
  /** Measured throughput in work units per second (the prior until a job has finished). */
  unitsPerSecond: number;
  /** Work units running (not yet done) plus waiting. */
  backlogUnits: number;
}

interface Job {
  units: number;
  done: number;
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
  #jobs = new Set<Job>();
  /** Units per ms: starts at the prior, then an exponentially weighted measurement. */
  #rate: number;
  #measured = false;
  /** Busy time and units done since the last measurement. */
  #busySince = 0;
  #unitsSince = 0;
  /** Refusals since the last departure: the k-th is told the k-th departure time. */
  #refusedSinceDeparture = 0;

  /**
   * Creates a queue (`concurrency` ≥ 1, `capacity` ≥ 0). `unitsPerMs` is the throughput assumed
   * until one is measured (default 1).
   */
  constructor(concurrency: number, capacity: number, unitsPerMs = 1) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be an integer ≥ 1`);
    }
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be an integer ≥ 0`);
    }
    this.concurrency = concurrency;
    this.capacity = capacity;
    this.#rate = unitsPerMs > 0 && Number.isFinite(unitsPerMs) ? unitsPerMs : 1;
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
  acquire(signal?: AbortSignal, units = 1): Promise<Release> | undefined {
    if (signal?.aborted) {
      return Promise.reject(new QueueAbortError(signal.reason));
    }
    if (this.#running < this.concurrency) {
      this.#running++;
      this.#admitted++;
      return Promise.resolve(this.#releaser(units));
    }
    if (this.#waiting.length >= this.capacity) {
      this.#rejected++;
      this.#refusedSinceDeparture++;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { units, resolve, reject, signal };
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

  /**
   * Seconds a refused client should wait before a slot is likely free: the jobs in the system
   * (running: the units they have left; waiting: their units) are played forward at the measured
   * throughput, shared equally by the running jobs, and the time of the k-th departure is
   * returned to the k-th client refused since the last departure (so refused clients do not all
   * come back at once). Rounded up, between 1 and 600.
   */
  retryAfterSeconds(): number {
    const k = Math.max(1, this.#refusedSinceDeparture);
    const ms = this.departureMs(k);
    return Math.min(600, Math.max(1, Math.ceil(ms / 1000)));
  }

  /** Estimated milliseconds until the k-th job now in the system leaves (0 when fewer are there). */
  departureMs(k: number): number {
    const running = [...this.#jobs].map((j) => Math.max(0, j.units - j.done));
    const waiting = this.#waiting.map((w) => w.units);
    const rate = this.#rate;
    let t = 0;
    for (let d = 1; d <= k; d++) {
      if (running.length === 0) return t;
      // processor sharing: every running job advances at rate / running.length
      let i = 0;
      for (let j = 1; j < running.length; j++) if (running[j] < running[i]) i = j;
      const r = running[i];
      t += r * running.length / rate;
      for (let j = 0; j < running.length; j++) running[j] -= r;
      running.splice(i, 1);
      if (waiting.length > 0) running.push(waiting.shift()!);
    }
    return t;
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
      unitsPerSecond: Math.round(this.#rate * 1e4) / 10,
      backlogUnits: [...this.#jobs].reduce((a, j) => a + Math.max(0, j.units - j.done), 0) +
        this.#waiting.reduce((a, w) => a + w.units, 0),
    };
  }

  /** Accounts busy time since the last call (time with at least one job running). */
  #tick(): void {
    const now = performance.now();
    if (this.#running > 0 && this.#busySince > 0) {
      const busy = now - this.#busySince;
      if (busy >= 50 && this.#unitsSince > 0) {
        const sample = this.#unitsSince / busy;
        this.#rate = this.#measured ? 0.7 * this.#rate + 0.3 * sample : sample;
        this.#measured = true;
        this.#unitsSince = 0;
        this.#busySince = now;
      }
    } else {
      this.#busySince = now;
      this.#unitsSince = 0;
    }
  }

  #releaser(units: number): Release {
    const start = performance.now();
    const job: Job = { units: Math.max(0, units), done: 0 };
    if (this.#running === 1) {
      // the server just became busy
      this.#busySince = start;
      this.#unitsSince = 0;
    }
    this.#jobs.add(job);
    let finished = false;
    const progress = (done: number) => {
      if (finished) return;
      const d = Math.min(job.units, Math.max(job.done, done));
      this.#unitsSince += d - job.done;
      job.done = d;
      this.#tick();
    };
    const release = () => {
      if (finished) return;
      this.#tick();
      finished = true;
      this.#jobs.delete(job);
      const ms = performance.now() - start;
      this.#meanMs = this.#meanMs === 0 ? ms : 0.8 * this.#meanMs + 0.2 * ms;
      this.#refusedSinceDeparture = 0;
      this.#running--;
      this.#next();
    };
    return Object.assign(release, { progress });
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
      w.resolve(this.#releaser(w.units));
    }
  }
}
