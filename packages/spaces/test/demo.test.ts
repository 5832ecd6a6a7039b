import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  audio,
  type ChatMessage,
  chat,
  checkbox,
  client,
  demo,
  dropdown,
  type FileData,
  file,
  image,
  json,
  label,
  number,
  progress,
  SpacesError,
  slider,
  text,
} from "../src/index.ts";

const shout = demo({
  fn: (s: string, times: number, loud: boolean, sep: string) =>
    Array.from({ length: times }, () => (loud ? s.toUpperCase() : s)).join(sep === "comma" ? "," : " "),
  inputs: [
    text({ label: "Words" }),
    slider({ label: "Times", min: 1, max: 5, value: 2 }),
    checkbox({ label: "Loud" }),
    dropdown({ label: "Separator", choices: ["space", "comma"] }),
  ],
  outputs: [text({ label: "Shouted" })],
  examples: [["hey", 3, true, "comma"]],
  title: "Shout",
});

let release: () => void = () => {};
const gate = new Promise<void>((r) => {
  release = r;
});
const slow = demo({
  fn: async (n: number) => {
    progress(0.5, "half way");
    await gate;
    return { even: n % 2 === 0 ? 1 : 0, odd: n % 2 };
  },
  inputs: [number({ label: "N" })],
  outputs: [label({ label: "Parity" })],
});

const kinds = demo({
  fn: (img, snd, f, j, history): [FileData | null, unknown, ChatMessage[]] => [
    img ? { name: "flipped.bin", type: img.type, data: img.data.slice().reverse() } : null,
    { bytes: (snd?.data.length ?? 0) + (f?.data.length ?? 0), json: j },
    [...history, { role: "assistant" as const, content: `you said ${history.at(-1)?.content ?? ""}` }],
  ],
  inputs: [image(), audio(), file(), json(), chat()],
  outputs: [image(), json(), chat()],
});

describe("@hearth/spaces demo", () => {
  const servers: Array<{ url: string; close(): Promise<void> }> = [];
  let url = "";
  let slowUrl = "";
  let kindsUrl = "";
  before(async () => {
    for (const d of [shout, slow, kinds]) servers.push(await d.launch({ port: 0, quiet: true }));
    [url, slowUrl, kindsUrl] = servers.map((s) => `${s.url}/`) as [string, string, string];
  });
  after(async () => {
    release();
    for (const s of servers) await s.close();
  });

  it("POST /api/predict runs the function; bad input is a 400 with a code", async () => {
    const r = await fetch(`${url}api/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: ["hi", 3, true, "comma"] }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { data: unknown[]; duration: number };
    assert.deepEqual(body.data, ["HI,HI,HI"]);
    const bad = await fetch(`${url}api/predict`, {
      method: "POST",
      body: JSON.stringify({ data: ["hi", 9, true, "comma"] }),
    });
    assert.equal(bad.status, 400);
    const e = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(e.error.code, "HEARTH_SPACES_BAD_INPUT");
    assert.match(e.error.message, /data\[1\] \(Times\): expected a number in \[1, 5\], got 9/);
    const wrongCount = await fetch(`${url}api/predict`, { method: "POST", body: JSON.stringify({ data: ["hi"] }) });
    assert.equal(wrongCount.status, 400);
  });

  it("the page is an accessible form with examples; it works without JavaScript", async () => {
    const page = await (await fetch(url)).text();
    assert.match(page, /<label for="in0">Words<\/label><input id="in0" name="in0" type="text"/);
    assert.match(page, /<input id="in1" name="in1" type="range" min="1" max="5" step="1" value="2"/);
    assert.match(page, /role="status"/);
    assert.match(page, /aria-live="polite"/);
    assert.match(page, /<a href="\?example=0" aria-label="Use example 1">Use<\/a>/);
    const prefilled = await (await fetch(`${url}?example=0`)).text();
    assert.match(prefilled, /id="in0" name="in0" type="text" value="hey"/);
    assert.match(prefilled, /<option selected>comma<\/option>/);
    const form = new FormData();
    form.set("in0", "ok");
    form.set("in1", "2");
    form.append("in2", "0");
    form.append("in2", "1");
    form.set("in3", "space");
    const r = await fetch(url, { method: "POST", body: form });
    assert.equal(r.status, 200);
    const result = await r.text();
    assert.match(result, /<div id="out0" class="out-body"><p class="text-out">OK OK<\/p><\/div>/);
    assert.match(result, /value="ok"/, "the submitted values stay in the form");
    const wrong = new FormData();
    wrong.set("in0", "x");
    wrong.set("in1", "x");
    const bad = await fetch(url, { method: "POST", body: wrong });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /role="alert">form: Times: expected a finite number, got &quot;x&quot;/);
  });

  it("the queue reports position and progress, and the typed client reads the result", async () => {
    const c = client<typeof slow>(slowUrl);
    const seen: string[] = [];
    const first = c.submit([4], { interval: 20, onStatus: (s) => seen.push(`${s.status}:${s.progress?.desc ?? ""}`) });
    // a second call waits behind the first
    const join = await fetch(`${slowUrl}api/queue/join`, {
      method: "POST",
      body: JSON.stringify({ data: [3] }),
      headers: { "content-type": "application/json" },
    });
    const queued = (await join.json()) as { id: string; status: string; position: number };
    assert.deepEqual([queued.status, queued.position], ["queued", 0]);
    while (!seen.includes("running:half way")) await new Promise((r) => setTimeout(r, 20));
    release();
    const scores = await first;
    assert.deepEqual(scores, { even: 1, odd: 0 });
    const typed: Record<string, number> = scores;
    assert.ok(typed);
    const second = await c.predict(5);
    assert.deepEqual(second, { even: 0, odd: 1 });
    let s = (await (await fetch(`${slowUrl}api/queue/${queued.id}`)).json()) as { status: string; html?: string[] };
    while (s.status !== "done") s = (await (await fetch(`${slowUrl}api/queue/${queued.id}`)).json()) as typeof s;
    assert.match(s.html?.[0] ?? "", /<p class="label-top">odd<\/p>/);
    const missing = await fetch(`${slowUrl}api/queue/nope`);
    assert.equal(missing.status, 404);
  });

  it("files, JSON and chat round-trip through the client", async () => {
    const c = client<typeof kinds>(kindsUrl);
    const [img, info, conv] = await c.predict(
      { name: "a.png", type: "image/png", data: new Uint8Array([1, 2, 3]) },
      { name: "a.wav", type: "audio/wav", data: new Uint8Array(10) },
      null,
      { k: [1, 2] },
      [{ role: "user", content: "hello" }],
    );
    assert.deepEqual([...(img?.data ?? [])], [3, 2, 1]);
    assert.deepEqual(info, { bytes: 10, json: { k: [1, 2] } });
    assert.deepEqual(conv.at(-1), { role: "assistant", content: "you said hello" });
    const form = new FormData();
    form.set("in0", new Blob([new Uint8Array([9, 8])], { type: "image/png" }), "x.png");
    form.set("in3", "[1");
    const bad = await fetch(kindsUrl, { method: "POST", body: form });
    assert.equal(bad.status, 400);
    const ok = new FormData();
    ok.set("in0", new Blob([new Uint8Array([9, 8])], { type: "image/png" }), "x.png");
    ok.set(
      "in4__history",
      JSON.stringify([
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
      ]),
    );
    ok.set("in4", "c");
    const page = await (await fetch(kindsUrl, { method: "POST", body: ok })).text();
    assert.match(page, /<img src="data:image\/png;base64,CAk="/);
    assert.match(page, /<li class="msg assistant"><b>assistant<\/b> you said c<\/li>/);
  });

  it("bad configurations throw coded errors", () => {
    assert.throws(
      () => slider({ min: 3, max: 1 }),
      (e: unknown) => e instanceof SpacesError && e.code === "HEARTH_SPACES_BAD_CONFIG",
    );
    assert.throws(() => dropdown({ choices: [] }), /choices must be a non-empty array/);
    assert.throws(
      // @ts-expect-error: examples rows must match the inputs
      () => demo({ fn: (s: string) => s, inputs: [text()], outputs: [text()], examples: [["a", "b"]] }),
      /examples\[0\] must hold 1 values/,
    );
  });
});
