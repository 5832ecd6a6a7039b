/**
 * Attaches the op functions to `Tensor.prototype` as methods (`x.add(y)`, `x.reshape([-1])`),
 * keeping `tensor.ts` thin. Imported once by the package index.
 */
import type { DType } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { add, div, eq, ge, gt, le, lt, maximum, minimum, mul, ne, pow, sub } from "./elementwise/binary.ts";
import { clamp } from "./elementwise/clamp.ts";
import { gelu } from "./elementwise/gelu.ts";
import { rsqrt } from "./elementwise/rsqrt.ts";
import { silu } from "./elementwise/silu.ts";
import { softplus } from "./elementwise/softplus.ts";
import { abs, cos, erf, exp, log, log1p, neg, relu, sigmoid, sign, sin, sqrt, tanh, to } from "./elementwise/unary.ts";
import { maskedFill } from "./elementwise/where.ts";
import { clone, contiguous } from "./movement/contiguous.ts";
import { copy_ } from "./movement/copy.ts";
import { expand } from "./movement/expand.ts";
import { gather, indexSelect, scatterAdd } from "./movement/gather.ts";
import { movedim } from "./movement/movedim.ts";
import { permute, transpose } from "./movement/permute.ts";
import { flatten, reshape, squeeze, unsqueeze, view } from "./movement/reshape.ts";
import { chunk, narrow, slice, split } from "./movement/slice.ts";
import { tril, triu } from "./movement/tril.ts";
import { matmul } from "./nn/matmul.ts";
import { cumsum } from "./reduce/cumsum.ts";
import { logSoftmax } from "./reduce/log-softmax.ts";
import { logsumexp } from "./reduce/logsumexp.ts";
import { amax, amin, argmax, argmin, max, min, type ValuesIndices } from "./reduce/max.ts";
import { softmax } from "./reduce/softmax.ts";
import { sort, topk } from "./reduce/sort.ts";
import { type Dims, mean, sum } from "./reduce/sum.ts";
import { std, type VarOptions, variance } from "./reduce/var.ts";
import type { TensorLike } from "./util.ts";

declare module "../tensor.ts" {
  interface Tensor {
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    eq(b: TensorLike): Tensor;
    ne(b: TensorLike): Tensor;
    lt(b: TensorLike): Tensor;
    le(b: TensorLike): Tensor;
    gt(b: TensorLike): Tensor;
    ge(b: TensorLike): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    erf(): Tensor;
    gelu(approximate?: "none" | "tanh"): Tensor;
    silu(): Tensor;
    softplus(beta?: number, threshold?: number): Tensor;
    clamp(min?: number, max?: number): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    to(dtype: DType): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number | number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    movedim(source: number, destination: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number, end?: number): Tensor;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    contiguous(): Tensor;
    clone(): Tensor;
    copy_(src: Tensor): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    matmul(b: Tensor): Tensor;
    sum(dims?: Dims, keepdim?: boolean): Tensor;
    mean(dims?: Dims, keepdim?: boolean): Tensor;
    var(dims?: Dims, opts?: VarOptions): Tensor;
    std(dims?: Dims, opts?: VarOptions): Tensor;
    amax(dims?: Dims, keepdim?: boolean): Tensor;
    amin(dims?: Dims, keepdim?: boolean): Tensor;
    max(dim: number, keepdim?: boolean): ValuesIndices;
    min(dim: number, keepdim?: boolean): ValuesIndices;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    argmin(dim?: number, keepdim?: boolean): Tensor;
    logsumexp(dims?: Dims, keepdim?: boolean): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    cumsum(dim: number): Tensor;
    sort(dim?: number, descending?: boolean): ValuesIndices;
    topk(k: number, dim?: number, largest?: boolean): ValuesIndices;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: generic forwarding of (this, ...args) to op functions
type Fn = (x: Tensor, ...args: any[]) => unknown;
const methods: Record<string, Fn> = {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  neg,
  abs,
  sign,
  exp,
  log,
  log1p,
  sqrt,
  rsqrt,
  sin,
  cos,
  tanh,
  sigmoid,
  relu,
  erf,
  gelu,
  silu,
  softplus,
  clamp,
  maskedFill,
  to,
  reshape,
  view,
  flatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  movedim,
  expand,
  narrow,
  slice,
  split,
  chunk,
  contiguous,
  clone,
  copy_,
  tril,
  triu,
  gather,
  scatterAdd,
  indexSelect,
  matmul,
  sum,
  mean,
  var: variance,
  std,
  amax,
  amin,
  max,
  min,
  argmax,
  argmin,
  logsumexp,
  softmax,
  logSoftmax,
  cumsum,
  sort,
  topk,
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, {
    value(this: Tensor, ...args: unknown[]) {
      return fn(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}
