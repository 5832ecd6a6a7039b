import assert from "node:assert/strict";
import { test } from "node:test";
import { deviceFor, parseBytes } from "./device-map.ts";

test("parseBytes reads numbers and unit strings, rejects the rest", () => {
  assert.equal(parseBytes(1234), 1234);
  assert.equal(parseBytes("512MB"), 512e6);
  assert.equal(parseBytes("2GiB"), 2 * 2 ** 30);
  assert.equal(parseBytes("10 kib"), 10240);
  for (const bad of ["", "12XB", -1, Number.NaN]) {
    assert.throws(() => parseBytes(bad as never), { code: "HEARTH_ACCELERATE_DEVICE_MAP" });
  }
});

test("deviceFor takes the longest covering key, and errors when none covers", () => {
  const map = { "": "cpu", h: "disk", "h.1": "cpu" };
  assert.equal(deviceFor(map, "wte.weight"), "cpu");
  assert.equal(deviceFor(map, "h.0.c_fc.weight"), "disk");
  assert.equal(deviceFor(map, "h.1.c_fc.weight"), "cpu");
  assert.equal(deviceFor(map, "h.10.c_fc.weight"), "disk");
  assert.throws(() => deviceFor({ h: "cpu" }, "wte.weight"), { code: "HEARTH_ACCELERATE_DEVICE_MAP" });
});
