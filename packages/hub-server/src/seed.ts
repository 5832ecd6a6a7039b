/** Demo content for a fresh hub: a tiny model and a small dataset, so the UI has something to show. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { UserRow } from "./db/types.ts";
import type { Caller, CommitOp } from "./repos/service.ts";

/** A valid safetensors file holding two small float32 tensors (deterministic values). */
function tinySafetensors(): Buffer {
  const w = new Float32Array(4 * 8).map((_, i) => Math.sin(i) / 4);
  const b = new Float32Array(4).map((_, i) => i / 10);
  const header = JSON.stringify({
    __metadata__: { format: "pt" },
    "classifier.bias": { dtype: "F32", shape: [4], data_offsets: [0, 16] },
    "classifier.weight": { dtype: "F32", shape: [4, 8], data_offsets: [16, 16 + 128] },
  });
  const padded = header.padEnd(Math.ceil(header.length / 8) * 8, " ");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([len, Buffer.from(padded), Buffer.from(b.buffer), Buffer.from(w.buffer)]);
}

const modelCard = `---
license: apache-2.0
library_name: hearth
pipeline_tag: text-classification
tags:
  - demo
  - tiny
language:
  - en
---
# Demo model

A **tiny** classifier head seeded by \`npm start\` so the hub has something to show.
It holds one linear layer (\`classifier.weight\` 4×8, \`classifier.bias\` 4) in \`model.safetensors\`,
stored through Git LFS.

## Usage

\`\`\`python
from huggingface_hub import hf_hub_download
path = hf_hub_download("admin/demo-model", "model.safetensors")
\`\`\`

| file | what |
| --- | --- |
| config.json | model config |
| model.safetensors | weights (LFS) |
`;

const datasetCard = `---
license: cc0-1.0
task_categories:
  - text-classification
configs:
  - config_name: default
    data_files:
      - split: train
        path: data/train.csv
      - split: test
        path: data/test.jsonl
---
# Demo dataset

Short sentences with a sentiment label, plus \`alltypes.parquet\` from Apache parquet-testing
to show the Parquet preview.
`;

const sentences: Array<[string, string]> = [
  ["I loved every minute of it", "positive"],
  ["The battery died after an hour", "negative"],
  ["Service was quick and friendly", "positive"],
  ["Too loud, too crowded, too expensive", "negative"],
  ["A calm, well-written story", "positive"],
  ["It broke on the second day", "negative"],
  ["Would happily order again", "positive"],
  ["The instructions made no sense", "negative"],
];

/** Creates `<admin>/demo-model` and `<admin>/demo-dataset` unless they exist. */
export async function seedDemo(app: FastifyInstance, user: UserRow, fixturesDir?: string): Promise<void> {
  const caller: Caller = { user, role: "write", via: "token", tokenName: "seed", tokenCreatedAt: user.createdAt };
  const { repos, blobs, db } = app.hub;
  const lfs = async (path: string, bytes: Buffer): Promise<CommitOp> => {
    const oid = createHash("sha256").update(bytes).digest("hex");
    if (!(await blobs.stat(oid))) await blobs.put(oid, bytes.length, [bytes]);
    return { kind: "lfsFile", path, oid, size: bytes.length };
  };
  if (!(await db.getRepo("model", user.name, "demo-model"))) {
    const r = await repos.create(caller, { type: "model", namespace: user.name, name: "demo-model", private: false });
    await repos.commit(
      r,
      "main",
      { summary: "Add demo model" },
      [
        { kind: "file", path: "README.md", content: Buffer.from(modelCard.replaceAll("admin/", `${user.name}/`)) },
        {
          kind: "file",
          path: "config.json",
          content: Buffer.from(
            `${JSON.stringify({ architectures: ["DemoClassifier"], model_type: "demo", hidden_size: 8, num_labels: 4 }, null, 2)}\n`,
          ),
        },
        await lfs("model.safetensors", tinySafetensors()),
      ],
      caller,
    );
  }
  if (!(await db.getRepo("dataset", user.name, "demo-dataset"))) {
    const r = await repos.create(caller, {
      type: "dataset",
      namespace: user.name,
      name: "demo-dataset",
      private: false,
    });
    const csv = `text,label\n${sentences
      .slice(0, 6)
      .map(([t, l]) => `"${t}",${l}`)
      .join("\n")}\n`;
    const jsonl = `${sentences
      .slice(6)
      .map(([text, label]) => JSON.stringify({ text, label }))
      .join("\n")}\n`;
    const ops: CommitOp[] = [
      { kind: "file", path: "README.md", content: Buffer.from(datasetCard) },
      { kind: "file", path: "data/train.csv", content: Buffer.from(csv) },
      { kind: "file", path: "data/test.jsonl", content: Buffer.from(jsonl) },
    ];
    const parquet =
      fixturesDir &&
      (await readFile(join(fixturesDir, "data/datasets/columnar/parquet-testing/alltypes_plain.parquet")).catch(
        () => undefined,
      ));
    if (parquet) ops.push(await lfs("extra/alltypes.parquet", parquet));
    await repos.commit(r, "main", { summary: "Add demo data" }, ops, caller);
  }
}
