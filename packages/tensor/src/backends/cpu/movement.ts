/**
 * `cat` and `pad` for every dtype as native strided copies (bit-exact, split over the pool):
 * each input is copied into its window of the zero-filled output; `pad` first fills the output
 * with the pad value when it is not zero.
 */
import { writeNumbers } from "../../access.ts";
import type { NativeAddon } from "../../native/index.ts";
import { contiguousStrides } from "../../shape.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

/** Kernel records for `cat` and `pad`. */
export function movementKernels(addon: NativeAddon): KernelRecord[] {
  const cat = ({ inputs, outputs, attrs }: KernelArgs<{ dim: number }>) => {
    const out = outputs[0];
    if (!out) return;
    const strides = contiguousStrides(out.shape);
    let start = 0;
    for (const x of inputs) {
      addon.copy(x.data, x.offset, x.strides, out.data, start * (strides[attrs.dim] as number), strides, x.shape);
      start += x.shape[attrs.dim] as number;
    }
  };
  const pad = ({ inputs, outputs, attrs }: KernelArgs<{ pads: [number, number][]; value: number }>) => {
    const [x] = inputs;
    const [out] = outputs;
    if (!x || !out) return;
    if (attrs.value !== 0) {
      const one = out.data.slice(0, 1);
      writeNumbers(one, out.dtype, [attrs.value]);
      (out.data as Float32Array).fill(one[0] as number);
    }
    const strides = contiguousStrides(out.shape);
    const offset = attrs.pads.reduce((o, [before], d) => o + before * (strides[d] as number), 0);
    addon.copy(x.data, x.offset, x.strides, out.data, offset, strides, x.shape);
  };
  return [
    { op: "cat", fn: cat },
    { op: "pad", fn: pad },
  ];
}
