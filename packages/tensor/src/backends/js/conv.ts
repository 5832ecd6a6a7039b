/**
 * im2col / col2im of the `js` backend (B batch, C channels, H×W image, kh×kw kernel,
 * L = OH·OW output positions): cols[b, (c·kh + i)·kw + j, oy·OW + ox] =
 * x[b, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] (0 outside the image). col2im sums back.
 */
import { readNumbers, writeNumbers } from "../../access.ts";
import type { Col2imAttrs, ConvAttrs } from "../../ops/primitives.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

function walk(
  shape: { n: number; c: number; h: number; w: number; oh: number; ow: number },
  a: ConvAttrs,
  visit: (img: number, col: number) => void,
): void {
  const [kh, kw] = a.kernel;
  const L = shape.oh * shape.ow;
  for (let b = 0; b < shape.n; b++) {
    for (let ch = 0; ch < shape.c; ch++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const row = ((b * shape.c + ch) * kh + i) * kw + j;
          for (let oy = 0; oy < shape.oh; oy++) {
            const y = oy * a.stride[0] - a.padding[0] + i * a.dilation[0];
            if (y < 0 || y >= shape.h) continue;
            for (let ox = 0; ox < shape.ow; ox++) {
              const x = ox * a.stride[1] - a.padding[1] + j * a.dilation[1];
              if (x < 0 || x >= shape.w) continue;
              visit(((b * shape.c + ch) * shape.h + y) * shape.w + x, row * L + oy * shape.ow + ox);
            }
          }
        }
      }
    }
  }
}

function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

export const convKernels: KernelRecord[] = [
  {
    op: "im2col",
    fn: ({ inputs: [x], outputs: [out], attrs }: KernelArgs<ConvAttrs>) => {
      if (!x || !out) return;
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const oh = outSize(h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.dilation[0]);
      const ow = outSize(w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.dilation[1]);
      const v = readNumbers(x);
      const res = new Float64Array(out.data.length);
      walk({ n, c, h, w, oh, ow }, attrs, (img, col) => {
        res[col] = v[img] as number;
      });
      writeNumbers(out.data, out.dtype, res);
    },
  },
  {
    op: "col2im",
    fn: ({ inputs: [cols], outputs: [out], attrs }: KernelArgs<Col2imAttrs>) => {
      if (!cols || !out) return;
      const [n, c, h, w] = out.shape as [number, number, number, number];
      const oh = outSize(h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.dilation[0]);
      const ow = outSize(w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.dilation[1]);
      const v = readNumbers(cols);
      const res = new Float64Array(out.data.length);
      walk({ n, c, h, w, oh, ow }, attrs, (img, col) => {
        res[img] = (res[img] as number) + (v[col] as number);
      });
      writeNumbers(out.data, out.dtype, res);
    },
  },
];
