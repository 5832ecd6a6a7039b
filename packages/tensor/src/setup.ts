/**
 * Side effects every entry point needs: the `js` backend registered, the autograd engine
 * installed, op methods attached to `Tensor`. Imported by `index.ts`, `nn/index.ts` and
 * `optim/index.ts`, so each subpath export works on its own.
 */
import "./backends/index.ts";
import "./autograd/engine.ts";
import "./ops/methods.ts";
