import assert from "node:assert/strict";
import { test } from "node:test";
import { getBackend } from "@hearth/tensor";
import { type Device, registerDeviceProvider, resolveDevice } from "./devices.ts";

test("auto resolves to the CPU here, with the active backend", () => {
  const d = resolveDevice("auto");
  assert.equal(d.name, "cpu");
  assert.equal(d.backend, getBackend().name);
});

test("a provider that throws or offers nothing never breaks auto; a named missing device is an error", () => {
  registerDeviceProvider({
    kind: "cuda",
    priority: 30,
    available() {
      throw new Error("no driver");
    },
  });
  registerDeviceProvider({ kind: "webgpu", priority: 20, available: () => [] });
  assert.equal(resolveDevice("auto").name, "cpu");
  assert.throws(() => resolveDevice("cuda:0"), { code: "HEARTH_ACCELERATE_DEVICE" });
});

test("a registered provider with a device wins auto by priority", () => {
  const fake: Device = { name: "webgpu", backend: "js", supportsNativeLowPrecision: () => false };
  registerDeviceProvider({ kind: "webgpu", priority: 20, available: () => [fake] });
  assert.equal(resolveDevice("auto"), fake);
  assert.equal(resolveDevice("webgpu"), fake);
  registerDeviceProvider({ kind: "webgpu", priority: 20, available: () => [] });
  assert.equal(resolveDevice("auto").name, "cpu");
});
