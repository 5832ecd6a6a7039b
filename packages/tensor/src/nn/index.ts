import "../setup.ts";

export { fanInUniform } from "./init.ts";
export { GELU, ReLU, SiLU, Tanh } from "./layers/activations.ts";
export { ModuleList, Sequential } from "./layers/containers.ts";
export { Conv1d, Conv2d, type ConvLayerOptions } from "./layers/conv.ts";
export { Dropout } from "./layers/dropout.ts";
export { Embedding } from "./layers/embedding.ts";
export { Linear } from "./layers/linear.ts";
export { LayerNorm, RMSNorm } from "./layers/norm.ts";
export { type LoadStateDictResult, Module } from "./module.ts";
