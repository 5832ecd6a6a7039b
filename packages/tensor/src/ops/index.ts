export { allocate, apply, apply1, onMetaDevice } from "./apply.ts";
export * from "./creation/fill.ts";
export * from "./creation/random.ts";
export * from "./creation/range.ts";
export * from "./creation/tensor.ts";
export * from "./elementwise/binary.ts";
export { clamp } from "./elementwise/clamp.ts";
export { gelu } from "./elementwise/gelu.ts";
export { rsqrt } from "./elementwise/rsqrt.ts";
export { silu } from "./elementwise/silu.ts";
export { softplus } from "./elementwise/softplus.ts";
export * from "./elementwise/unary.ts";
export { maskedFill, where } from "./elementwise/where.ts";
export { cat, stack } from "./movement/cat.ts";
export { clone, contiguous } from "./movement/contiguous.ts";
export { copy_ } from "./movement/copy.ts";
export { expand } from "./movement/expand.ts";
export { gather, indexSelect, scatterAdd } from "./movement/gather.ts";
export { movedim } from "./movement/movedim.ts";
export { pad } from "./movement/pad.ts";
export { permute, transpose } from "./movement/permute.ts";
export { flatten, reshape, squeeze, unsqueeze, view } from "./movement/reshape.ts";
export { chunk, narrow, slice, split } from "./movement/slice.ts";
export { tril, triu } from "./movement/tril.ts";
export {
  type AttentionOptions,
  type CachedAttentionOptions,
  type CachedAttentionQkvOptions,
  cachedAttention,
  cachedAttentionQkv,
  compositeAttention,
  scaledDotProductAttention,
} from "./nn/attention.ts";
export { autocast, autocastDtype } from "./nn/autocast.ts";
export { type ConvOptions, conv1d, conv2d } from "./nn/conv.ts";
export { type CrossEntropyOptions, crossEntropy } from "./nn/cross-entropy.ts";
export { dropout } from "./nn/dropout.ts";
export { embedding } from "./nn/embedding.ts";
export { layerNorm } from "./nn/layer-norm.ts";
export { linear } from "./nn/linear.ts";
export { addmm, matmul, type ProductOptions } from "./nn/matmul.ts";
export { mseLoss } from "./nn/mse-loss.ts";
export { rmsNorm } from "./nn/rms-norm.ts";
export type { ProductActivation } from "./primitives.ts";
export { PRIMITIVE_NAMES, PRIMITIVES, type Primitive } from "./primitives.ts";
export { cumsum } from "./reduce/cumsum.ts";
export { logSoftmax } from "./reduce/log-softmax.ts";
export { logsumexp } from "./reduce/logsumexp.ts";
export { amax, amin, argmax, argmin, max, min, type ValuesIndices } from "./reduce/max.ts";
export { softmax } from "./reduce/softmax.ts";
export { sort, topk } from "./reduce/sort.ts";
export { type Dims, mean, sum } from "./reduce/sum.ts";
export { std, type VarOptions, variance } from "./reduce/var.ts";
export type { TensorLike } from "./util.ts";
