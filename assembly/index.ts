// The coefficient engine's exports. The host allocates arrays with `alloc`, writes inputs, calls a
// builder and reads the outputs; `resetScratch` frees everything but the vp-discrete table. The
// method ids are exported so that a test can hold them equal to the TypeScript registry.

export { alloc, markPersistent, resetAll, resetScratch } from "./memory";
export { setVe, setVpCosine, setVpDiscrete, setVpLinear } from "./sde";
export { buildGrid } from "./grid";
export { evalSchedule, prepareGrid } from "./schedule";
export { buildRows, buildStochastic, M_DDIM, M_EI_SCORE, M_EULER, M_IPNDM, M_LOGRHO, M_RHOAB, M_TAB } from "./tables";
export { buildRk, rkStages } from "./rk";
export { buildDpmpp, buildUnipc, dataStepOrder } from "./data_multistep";
