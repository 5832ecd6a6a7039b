import { HearthTensorError } from "../errors.ts";
import { buffer, Optimizer, type ParamState, type ParamsInput } from "./optimizer.ts";

/** SGD hyper-parameters (PyTorch's names and defaults). */
export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

const f = Math.fround;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
 * weight decay, exactly as `torch.optim.SGD`.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    const o = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts };
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new HearthTensorError(
        "HEARTH_OPTIM_ARGUMENT",
        "SGD: Nesterov momentum requires momentum > 0 and dampening 0",
      );
    }
    super(params, o);
  }

  protected update(p: Float32Array, g: Float32Array, st: ParamState, o: SGDOptions): void {
    const first = st.momentumBuffer === undefined;
    const buf = o.momentum !== 0 ? buffer(st, "momentumBuffer", p.length) : null;
    for (let i = 0; i < p.length; i++) {
      let d = g[i] as number;
      if (o.weightDecay !== 0) d = f(d + f(o.weightDecay * (p[i] as number)));
      if (buf) {
        const b = first ? d : f(f(o.momentum * (buf[i] as number)) + f((1 - o.dampening) * d));
        buf[i] = b;
        d = o.nesterov ? f(d + f(o.momentum * b)) : b;
      }
      p[i] = f((p[i] as number) - f(o.lr * d));
    }
  }
}
