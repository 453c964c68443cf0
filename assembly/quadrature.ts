// Gauss–Legendre nodes and weights on [0, 1], computed once by Newton's method on P_n.
// Every integrand the engine meets is analytic in a strip |Im u| < π/2 around the real u = log ρ
// axis, so 12 nodes on pieces of length ≤ 1/2 leave a truncation error far below float64 rounding.

export const GL_N: i32 = 12;
export const GL_NODES: usize = memory.data(GL_N * 8);
export const GL_WEIGHTS: usize = memory.data(GL_N * 8);
let ready = false;

/** P_n(x) and P_{n−1}(x) by the three-term recurrence; returns P_n and leaves P_{n−1} in `prevP`. */
let prevP: f64 = 0;
function legendre(n: i32, x: f64): f64 {
  let p0: f64 = 1;
  let p1 = x;
  for (let k = 2; k <= n; k++) {
    const p2 = ((2.0 * <f64> k - 1.0) * x * p1 - (<f64> k - 1.0) * p0) / <f64> k;
    p0 = p1;
    p1 = p2;
  }
  prevP = p0;
  return p1;
}

export function ensureQuadrature(): void {
  if (ready) return;
  const n = GL_N;
  for (let i = 0; i < n; i++) {
    // Tricomi's initial guess, then Newton on P_n(x).
    let x = Math.cos((Math.PI * (<f64> i + 0.75)) / (<f64> n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const p = legendre(n, x);
      const dx = p / ((<f64> n * (x * p - prevP)) / (x * x - 1.0));
      x -= dx;
      if (Math.abs(dx) < 1e-17) break;
    }
    // The weight uses P_n' at the converged node.
    const p = legendre(n, x);
    const dp = (<f64> n * (x * p - prevP)) / (x * x - 1.0);
    store<f64>(GL_NODES + ((<usize> i) << 3), 0.5 * (1.0 - x));
    store<f64>(GL_WEIGHTS + ((<usize> i) << 3), 1.0 / ((1.0 - x * x) * dp * dp));
  }
  ready = true;
}

// @ts-ignore: decorator
export function glNode(i: i32): f64 {
  return load<f64>(GL_NODES + ((<usize> i) << 3));
}

// @ts-ignore: decorator
export function glWeight(i: i32): f64 {
  return load<f64>(GL_WEIGHTS + ((<usize> i) << 3));
}
