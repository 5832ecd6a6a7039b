// The hub's way into a Space that has its own network namespace (see sandbox.ts). Started by
// the Space's launcher inside that namespace, before it drops privileges and execs the app.
// argv: <unix socket path> <app port>
// It waits until the app accepts on 127.0.0.1:<port>, then listens on the Unix socket (in a
// folder only the hub can open) and relays every connection to the app, both ways, with
// half-close. It exits when the app (the process it was forked from) exits.
import { unlinkSync } from "node:fs";
import { connect, createServer } from "node:net";

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 200);

function relay(down) {
  const up = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  up.on("error", () => down.destroy());
  down.on("error", () => up.destroy());
  down.pipe(up);
  up.pipe(down);
}

function listen() {
  try {
    unlinkSync(socketPath);
  } catch {
    // none yet
  }
  createServer({ allowHalfOpen: true }, relay).listen(socketPath);
}

(function waitForApp() {
  const s = connect(port, "127.0.0.1");
  s.once("connect", () => {
    s.destroy();
    listen();
  });
  s.once("error", () => setTimeout(waitForApp, 50));
})();
