/** Chat templates from tokenizer_config.json, rendered as transformers' apply_chat_template renders them. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ErrorCodes, type PreTrainedTokenizer } from "../../src/index.ts";
import { fresh, loaders } from "./fixtures.ts";

let llama3: PreTrainedTokenizer;
before(async () => {
  llama3 = await loaders.llama3();
});

const conversation = [
  { role: "system", content: "You are a concise assistant." },
  { role: "user", content: "  What is the capital of France?\n" },
  { role: "assistant", content: "Paris." },
  { role: "user", content: "And of Italy?" },
];

describe("Llama 3 chat template", () => {
  it("renders a three-turn conversation with a generation prompt exactly as Python does", () => {
    // What jinja2 renders from the template in llama3-bpe/tokenizer_config.json: bos before the
    // first message, each message as header + content|trim + <|eot_id|>, then the assistant header
    // (this early Llama 3 template appends it unconditionally).
    const expected =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a concise assistant.<|eot_id|>" +
      "<|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of France?<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\nParis.<|eot_id|>" +
      "<|start_header_id|>user<|end_header_id|>\n\nAnd of Italy?<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
    assert.equal(llama3.applyChatTemplate(conversation, { addGenerationPrompt: true, tokenize: false }), expected);
  });

  it("tokenizes the rendered prompt without adding special tokens again", () => {
    const ids = llama3.applyChatTemplate(conversation, { addGenerationPrompt: true });
    assert.equal(ids[0], 128000);
    assert.equal(ids.filter((id) => id === 128000).length, 1);
    assert.deepEqual(ids.slice(1, 4), [128006, 9125, 128007]); // <|start_header_id|> system <|end_header_id|>
    assert.equal(ids.filter((id) => id === 128009).length, 4); // four <|eot_id|>
    assert.equal(
      llama3.decode(ids),
      llama3.applyChatTemplate(conversation, { addGenerationPrompt: true, tokenize: false }),
    );
  });
});

describe("template selection, tools and documents", () => {
  const toolTemplate =
    "{% if tools %}Tools: {{ tools | tojson }}\n{% endif %}" +
    "{% if documents %}{% for d in documents %}[{{ d.title }}] {{ d.text }}\n{% endfor %}{% endif %}" +
    "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}" +
    "{% if add_generation_prompt %}assistant:{% endif %}";
  const tools = [
    {
      type: "function",
      function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    },
  ];

  it("passes tools (as JSON), documents and add_generation_prompt to the template", async () => {
    const tok = await fresh.llama3();
    tok.config.chat_template = [
      { name: "default", template: "{% for m in messages %}{{ m.content }}{% endfor %}" },
      { name: "tool_use", template: toolTemplate },
    ];
    const msgs = [{ role: "user", content: "Weather in Paris?" }];
    assert.equal(tok.applyChatTemplate(msgs, { tokenize: false }), "Weather in Paris?");
    assert.equal(
      tok.applyChatTemplate(msgs, {
        tools,
        documents: [{ title: "Doc", text: "Sunny." }],
        addGenerationPrompt: true,
        tokenize: false,
      }),
      'Tools: [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]\n' +
        "[Doc] Sunny.\nuser: Weather in Paris?\nassistant:",
    );
    assert.equal(
      tok.applyChatTemplate(msgs, { chatTemplate: "tool_use", tokenize: false }),
      "user: Weather in Paris?\n",
    );
  });

  it("continueFinalMessage stops after the last message's content", () => {
    const out = llama3.applyChatTemplate(
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello, I am" },
      ],
      { continueFinalMessage: true, tokenize: false },
    );
    assert.ok(out.endsWith("<|start_header_id|>assistant<|end_header_id|>\n\nHello, I am"));
  });

  it("errors: no template, a template that raises, bad messages", async () => {
    const bert = await loaders.bert();
    assert.throws(
      () => bert.applyChatTemplate([{ role: "user", content: "x" }]),
      (e: { code?: string }) => e.code === ErrorCodes.CHAT_TEMPLATE_MISSING,
    );
    assert.throws(
      () =>
        bert.applyChatTemplate([{ role: "user", content: "x" }], {
          chatTemplate: "{{ raise_exception('roles must alternate') }}",
        }),
      (e: { code?: string; message: string }) =>
        e.code === ErrorCodes.CHAT_TEMPLATE_ERROR && e.message.includes("roles must alternate"),
    );
    assert.throws(
      () => llama3.applyChatTemplate([{ content: "x" } as never]),
      (e: { code?: string }) => e.code === ErrorCodes.TOKENIZER_BAD_ARGUMENT,
    );
  });
});

describe("template files beside the config", () => {
  it("reads chat_template.jinja when tokenizer_config.json has none", async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { AutoTokenizer } = await import("../../src/index.ts");
    const { TOKENIZERS } = await import("./fixtures.ts");
    const dir = mkdtempSync(join(tmpdir(), "hearth-chat-"));
    writeFileSync(
      join(dir, "vocab.txt.gz"),
      readFileSync(join(TOKENIZERS, "bert-base-uncased/vocab.derived-from-gguf.txt.gz")),
    );
    writeFileSync(
      join(dir, "chat_template.jinja"),
      "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}",
    );
    const bert = await AutoTokenizer.fromPretrained(dir, { fileNames: { "vocab.txt": "vocab.txt.gz" } });
    assert.equal(bert.applyChatTemplate([{ role: "user", content: "hi" }], { tokenize: false }), "[user] hi\n");
  });
});
