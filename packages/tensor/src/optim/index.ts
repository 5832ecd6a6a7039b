import "../setup.ts";

export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export { clipGradNorm } from "./clip.ts";
export { Optimizer, type OptimizerState, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer.ts";
export { getConstantSchedule, getCosineSchedule, getLinearSchedule, LambdaLR } from "./schedules.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
