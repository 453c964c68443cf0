// Every validation rule raises a ConfigError naming the field and its allowed range.

import assert from "node:assert/strict";
import { ConfigError, makePlan, type PlanConfig } from "../mod.ts";

function rejects(config: unknown, field: string, allowed?: RegExp): void {
  assert.throws(
    () => makePlan(config as PlanConfig),
    (e: unknown) => {
      assert.ok(
        e instanceof ConfigError,
        `expected ConfigError for ${JSON.stringify(config)}, got ${e}`,
      );
      assert.equal(
        e.field,
        field,
        `field for ${JSON.stringify(config)}: ${e.message}`,
      );
      if (allowed) assert.match(e.message, allowed);
      assert.ok(e.message.startsWith(field + ":"), e.message);
      return true;
    },
  );
}

const DDPM = Array.from({ length: 50 }, (_, i) => Math.exp(-0.1 * (i + 1)));

Deno.test("steps out of range or not an integer", () => {
  rejects({ steps: 0 }, "steps", /\[1, 10000\]/);
  rejects({ steps: 10001 }, "steps", /\[1, 10000\]/);
  rejects({ steps: 2.5 }, "steps");
  rejects({ steps: "10" }, "steps");
  rejects({ steps: NaN }, "steps");
});

Deno.test("order outside 0..3 or above what the method supports", () => {
  rejects({ order: -1 }, "order", /\[0, 3\]/);
  rejects({ order: 4 }, "order", /\[0, 3\]/);
  rejects({ method: "ddim", order: 1 }, "order", /\[0, 0\]/);
  rejects({ method: "euler", order: 2 }, "order", /\[0, 0\]/);
  rejects({ method: "ei-score", order: 1 }, "order");
  rejects({ method: "rhork", order: 2 }, "order", /multistep/);
});

Deno.test("ε ≥ T and times outside the SDE's range", () => {
  rejects({ tStart: 0.5, tEnd: 0.5 }, "tEnd", /below tStart/);
  rejects({ tStart: 0.1, tEnd: 0.2 }, "tEnd");
  rejects({ tEnd: 0 }, "tEnd", /\(0, 1\]/);
  rejects({ tStart: 1.5 }, "tStart", /\(0, 1\]/);
  rejects({ sde: "vp-cosine", tStart: 1 }, "tStart", /\(0, 1\)/);
  rejects(
    { sde: "vp-discrete", alphasCumprod: DDPM, tEnd: 0.001 },
    "tEnd",
    /\[0.02, 1\]/,
  );
  rejects({ tStart: Infinity }, "tStart");
});

Deno.test("unknown names and keys", () => {
  rejects({ sde: "vp" }, "sde", /vp-linear, vp-cosine, vp-discrete, ve/);
  rejects({ grid: "cosine" }, "grid", /time-uniform/);
  rejects({ method: "dpm" }, "method", /ddim, tab/);
  rejects({ method: "rhork", rk: "rk5" }, "rk", /heun2/);
  rejects({ stepz: 10 }, "stepz", /not a known key/);
  rejects(null, "config");
  rejects([1, 2], "config");
});

Deno.test("parameters that do not belong to the chosen SDE, grid or method", () => {
  rejects({ sde: "ve", betaMin: 0.1 }, "betaMin", /vp-linear/);
  rejects({ sigmaMax: 10 }, "sigmaMax", /sde ve/);
  rejects({ alphasCumprod: DDPM }, "alphasCumprod", /vp-discrete/);
  rejects({ grid: "logrho", kappa: 2 }, "kappa", /time-power and karras/);
  rejects({ method: "tab", rk: "heun2" }, "rk", /rhork/);
  rejects({ method: "tab", lambda: 1 }, "lambda", /ddim/);
});

Deno.test("SDE parameters out of range", () => {
  rejects({ betaMin: -0.1 }, "betaMin", /\[0, 100\]/);
  rejects({ betaMin: 5, betaMax: 5 }, "betaMax", /betaMin = 5/);
  rejects({ betaMax: 1e9 }, "betaMax");
  rejects({ sde: "ve", sigmaMin: 0 }, "sigmaMin", /\(0, 1000000\]/);
  rejects({ sde: "ve", sigmaMin: 2, sigmaMax: 1 }, "sigmaMax");
  rejects({ lambda: -1, method: "ddim" }, "lambda", /\[0, 100\]/);
  rejects({ grid: "karras", kappa: 0 }, "kappa", /\(0, 100\]/);
  rejects({ grid: "time-power", kappa: NaN }, "kappa");
});

Deno.test("discrete ᾱ tables must be strictly decreasing inside (0, 1)", () => {
  rejects({ sde: "vp-discrete" }, "alphasCumprod", /required/);
  rejects(
    { sde: "vp-discrete", alphasCumprod: [0.9] },
    "alphasCumprod",
    /2 to 100000/,
  );
  rejects(
    { sde: "vp-discrete", alphasCumprod: [0.9, 0.95, 0.5] },
    "alphasCumprod[1]",
    /strictly decreasing/,
  );
  rejects(
    { sde: "vp-discrete", alphasCumprod: [0.9, 0.9] },
    "alphasCumprod[1]",
    /strictly decreasing/,
  );
  rejects(
    { sde: "vp-discrete", alphasCumprod: [1, 0.5] },
    "alphasCumprod[0]",
    /\(0, 1\)/,
  );
  rejects(
    { sde: "vp-discrete", alphasCumprod: [0.5, 0] },
    "alphasCumprod[1]",
    /\(0, 1\)/,
  );
  rejects(
    { sde: "vp-discrete", alphasCumprod: [0.5, NaN] },
    "alphasCumprod[1]",
    /finite/,
  );
  rejects({ sde: "vp-discrete", alphasCumprod: "ddpm" }, "alphasCumprod");
});

Deno.test("custom grids must be strictly decreasing and inside the time range", () => {
  rejects(
    { timesteps: [1, 0.5, 0.5, 0.1] },
    "timesteps[2]",
    /strictly decreasing/,
  );
  rejects({ timesteps: [0.1, 0.5] }, "timesteps[1]", /strictly decreasing/);
  rejects({ timesteps: [1.2, 0.5] }, "timesteps[0]", /\(0, 1\]/);
  rejects({ timesteps: [1, 0] }, "timesteps[1]", /\(0, 1\]/);
  rejects({ timesteps: [1, -0.1] }, "timesteps[1]");
  rejects({ timesteps: [1, Infinity] }, "timesteps[1]", /finite/);
  rejects({ timesteps: [1] }, "timesteps", /2 to 10001/);
  rejects({ timesteps: [1, 0.5], steps: 3 }, "steps");
  rejects({ timesteps: [1, 0.5], grid: "logrho" }, "grid");
  rejects({ timesteps: [1, 0.5], tStart: 1 }, "tStart");
  rejects({ grid: "custom" }, "timesteps", /required/);
});

Deno.test("valid edge cases produce finite plans", () => {
  for (
    const config of [
      { steps: 1 },
      { steps: 10000, method: "tab", order: 3 },
      { sde: "ve", tEnd: 0, grid: "logrho" },
      { grid: "karras", kappa: 100, steps: 50 },
      { grid: "time-power", kappa: 0.3, steps: 20 },
      {
        sde: "vp-discrete",
        alphasCumprod: DDPM,
        steps: 49,
        grid: "time-uniform",
        tEnd: 0.02,
      },
      { method: "ddim", lambda: 100, steps: 5 },
      { betaMin: 0, betaMax: 100, steps: 20 },
      { betaMin: 0, betaMax: 100, steps: 20, method: "rhork" },
    ] as PlanConfig[]
  ) {
    const p = makePlan(config);
    for (
      const arr of [p.timesteps, p.alphaBar, p.rho, ...p.rows!, p.noise ?? []]
    ) {
      for (const v of arr) {
        assert.ok(Number.isFinite(v), JSON.stringify(config));
      }
    }
  }
});
