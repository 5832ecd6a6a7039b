/**
 * conv1d / conv2d as im2col + matmul (B batch, C in-channels, O out-channels, g groups):
 * cols [B, C·kh·kw, L] → [B, g, C/g·kh·kw, L]; weight [O, C/g, kh, kw] → [g, O/g, C/g·kh·kw];
 * out = weight @ cols → [B, O, OH, OW].
 */
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { add } from "../elementwise/binary.ts";
import { reshape, squeeze, unsqueeze } from "../movement/reshape.ts";
import { matmul } from "./matmul.ts";

/** Options of conv1d/conv2d (numbers apply to every spatial dim). */
export interface ConvOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v;

/** 2-d convolution of `x` [B, C, H, W] with `weight` [O, C/groups, kh, kw] and optional `bias` [O]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const groups = opts.groups ?? 1;
  if (x.ndim !== 4 || weight.ndim !== 4) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `conv2d: needs x [B, C, H, W] and weight [O, C/groups, kh, kw], got ${x.describe()} and ${weight.describe()}`,
    );
  }
  const [b, c, h] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = weight.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0 || cg !== c / groups) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `conv2d: with groups=${groups}, x ${x.describe()} and weight ${weight.describe()} need C and O divisible by groups and weight.shape[1] = C/groups`,
    );
  }
  const attrs = {
    kernel: [kh, kw] as [number, number],
    stride: pair(opts.stride, 1),
    padding: pair(opts.padding, 0),
    dilation: pair(opts.dilation, 1),
  };
  const cols = apply1("im2col", [x], attrs); // [B, C*kh*kw, L]
  const L = cols.shape[2] as number;
  const oh = Math.floor((h + 2 * attrs.padding[0] - attrs.dilation[0] * (kh - 1) - 1) / attrs.stride[0]) + 1;
  const ow = L / oh;
  const colsG = reshape(cols, [b, groups, cg * kh * kw, L]);
  const wG = reshape(weight, [groups, o / groups, cg * kh * kw]);
  let out = reshape(matmul(wG, colsG), [b, o, oh, ow]);
  if (bias) out = add(out, reshape(bias, [o, 1, 1]));
  return out;
}

/** 1-d convolution of `x` [B, C, L] with `weight` [O, C/groups, k] and optional `bias` [O]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  if (x.ndim !== 3 || weight.ndim !== 3) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `conv1d: needs x [B, C, L] and weight [O, C/groups, k], got ${x.describe()} and ${weight.describe()}`,
    );
  }
  const one = (v: number | [number, number] | undefined, d: number): [number, number] => [
    d,
    typeof v === "number" ? v : (v?.[0] ?? d),
  ];
  const out = conv2d(unsqueeze(x, 2), unsqueeze(weight, 2), bias, {
    stride: one(opts.stride, 1),
    padding: [0, typeof opts.padding === "number" ? opts.padding : (opts.padding?.[0] ?? 0)],
    dilation: one(opts.dilation, 1),
    groups: opts.groups,
  });
  return squeeze(out, 2);
}
