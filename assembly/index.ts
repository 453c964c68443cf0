// The coefficient engine's exports. The host allocates arrays with `alloc`, writes inputs, calls a
// builder and reads the outputs; `resetScratch` frees everything but the vp-discrete table.

export { alloc, markPersistent, resetAll, resetScratch } from "./memory";
export {
  dLogAlphaBar,
  dRho,
  logAlphaBar,
  logRho,
  rho2,
  setVe,
  setVpCosine,
  setVpDiscrete,
  setVpLinear,
  timeMax,
  timeMin,
  timeOfLogRho,
} from "./sde";
export { buildGrid } from "./grid";
export { evalSchedule, prepareGrid } from "./schedule";
export { buildRows, buildStochastic } from "./tables";
export { buildRk, rkStages } from "./rk";
