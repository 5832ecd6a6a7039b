import { HearthTensorError } from "../errors.ts";
import { native } from "../native/index.ts";
import { buffer, Optimizer, type ParamState, type ParamsInput } from "./optimizer.ts";

/** Adam/AdamW hyper-parameters (PyTorch's names). */
export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

const f = Math.fround;

function check(name: string, o: AdamOptions): void {
  const [b1, b2] = o.betas;
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1) || !(o.eps >= 0) || !(o.weightDecay >= 0)) {
    throw new HearthTensorError(
      "HEARTH_OPTIM_ARGUMENT",
      `${name}: betas must be in [0, 1) and eps, weightDecay >= 0, got betas ${JSON.stringify(o.betas)}, eps ${o.eps}, weightDecay ${o.weightDecay}`,
    );
  }
}

/**
 * One Adam step in float32, PyTorch's single-tensor order:
 * m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + eps).
 */
function adamStep(p: Float32Array, g: Float32Array, st: ParamState, o: AdamOptions, l2: boolean, keep = 1): void {
  const [b1, b2] = o.betas;
  const step = ((st.step as number | undefined) ?? 0) + 1;
  st.step = step;
  const m = buffer(st, "expAvg", p.length);
  const v = buffer(st, "expAvgSq", p.length);
  const vmax = o.amsgrad ? buffer(st, "maxExpAvgSq", p.length) : null;
  const bc1 = 1 - b1 ** step;
  const bc2Sqrt = Math.sqrt(1 - b2 ** step);
  const stepSize = o.lr / bc1;
  if (native) {
    // The addon's fused loop (threaded), bit-identical to the loop below.
    native.adamStep(p, g, m, v, vmax, stepSize, bc2Sqrt, b1, b2, o.eps, o.weightDecay, l2, keep);
    return;
  }
  if (keep !== 1) for (let i = 0; i < p.length; i++) p[i] = f((p[i] as number) * keep);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i] as number;
    if (l2 && o.weightDecay !== 0) gi = f(gi + f(o.weightDecay * (p[i] as number)));
    const mi = f(f(b1 * (m[i] as number)) + f((1 - b1) * gi));
    const vi = f(f(b2 * (v[i] as number)) + f(f((1 - b2) * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    let vs = vi;
    if (vmax) {
      vs = Math.max(vmax[i] as number, vi);
      vmax[i] = vs;
    }
    const denom = f(f(f(Math.sqrt(vs)) / bc2Sqrt) + o.eps);
    p[i] = f((p[i] as number) - f(stepSize * f(mi / denom)));
  }
}

/** Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient, as `torch.optim.Adam`. */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    const o: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...opts };
    check("Adam", o);
    super(params, o);
  }
  protected update(p: Float32Array, g: Float32Array, st: ParamState, o: AdamOptions): void {
    adamStep(p, g, st, o, true);
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): decoupled weight decay p ← p·(1 − lr·wd) before the Adam
 * step, exactly as `torch.optim.AdamW` (default weightDecay 0.01).
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3 });
 */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    const o: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...opts };
    check("AdamW", o);
    super(params, o);
  }
  protected update(p: Float32Array, g: Float32Array, st: ParamState, o: AdamOptions): void {
    adamStep(p, g, st, o, false, o.weightDecay !== 0 ? f(1 - o.lr * o.weightDecay) : 1);
  }
}
