/**
 * Chat templates: the Jinja template in tokenizer_config.json, rendered with `@huggingface/jinja`
 * the way transformers' `apply_chat_template` renders it (trim_blocks + lstrip_blocks,
 * `raise_exception`, special tokens as variables, named templates such as "tool_use").
 */
import { Template } from "@huggingface/jinja";
import { ErrorCodes, fail } from "../errors.ts";
import type { ChatMessage, ChatTemplateOptions } from "./types.ts";

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw fail(
        ErrorCodes.CHAT_TEMPLATE_ERROR,
        `applyChatTemplate: the chat template does not parse: ${(e as Error).message}`,
        e,
      );
    }
    compiled.set(source, t);
  }
  return t;
}

/** Pick the template: an explicit one, a named one, "tool_use" when tools are given, else "default". */
export function selectTemplate(
  configured: string | Array<{ name: string; template: string }> | undefined,
  opts: ChatTemplateOptions,
): string {
  const named = new Map<string, string>();
  if (Array.isArray(configured)) for (const t of configured) named.set(t.name, t.template);
  if (opts.chatTemplate !== undefined) return named.get(opts.chatTemplate) ?? opts.chatTemplate;
  if (typeof configured === "string") return configured;
  if (named.size > 0) {
    if (opts.tools && named.has("tool_use")) return named.get("tool_use") as string;
    const d = named.get("default");
    if (d !== undefined) return d;
    throw fail(
      ErrorCodes.CHAT_TEMPLATE_MISSING,
      `applyChatTemplate: tokenizer_config.json has named chat templates (${[...named.keys()].join(", ")}) but no 'default'; pass chatTemplate: "<name>"`,
    );
  }
  throw fail(
    ErrorCodes.CHAT_TEMPLATE_MISSING,
    "applyChatTemplate: this tokenizer has no chat template (tokenizer_config.json has no 'chat_template'); pass one with { chatTemplate }",
  );
}

/** Render `messages` to the prompt string. */
export function renderChatTemplate(
  configured: string | Array<{ name: string; template: string }> | undefined,
  messages: ChatMessage[],
  opts: ChatTemplateOptions,
  specialTokens: Record<string, unknown>,
): string {
  if (!Array.isArray(messages))
    throw fail(ErrorCodes.TOKENIZER_BAD_ARGUMENT, "applyChatTemplate: 'messages' must be an array of {role, content}");
  messages.forEach((m, i) => {
    if (!m || typeof m.role !== "string") {
      throw fail(
        ErrorCodes.TOKENIZER_BAD_ARGUMENT,
        `applyChatTemplate: messages[${i}] must have a string 'role', got ${JSON.stringify(m)}`,
      );
    }
  });
  if (opts.continueFinalMessage && opts.addGenerationPrompt) {
    throw fail(
      ErrorCodes.TOKENIZER_BAD_ARGUMENT,
      "applyChatTemplate: continueFinalMessage and addGenerationPrompt cannot both be set",
    );
  }
  const template = compile(selectTemplate(configured, opts));
  let text: string;
  try {
    text = template.render({
      ...specialTokens,
      ...(opts.templateKwargs ?? {}),
      messages,
      tools: opts.tools,
      documents: opts.documents,
      add_generation_prompt: opts.addGenerationPrompt === true,
    });
  } catch (e) {
    throw fail(ErrorCodes.CHAT_TEMPLATE_ERROR, `applyChatTemplate: rendering failed: ${(e as Error).message}`, e);
  }
  if (opts.continueFinalMessage && messages.length > 0) {
    const content = messages[messages.length - 1].content;
    const last = Array.isArray(content) ? (content[content.length - 1] as { text?: unknown })?.text : content;
    if (typeof last !== "string") {
      throw fail(
        ErrorCodes.TOKENIZER_BAD_ARGUMENT,
        "applyChatTemplate: continueFinalMessage needs the last message's content as text",
      );
    }
    let final: string = last;
    let at = text.lastIndexOf(final);
    if (at < 0) {
      final = final.trim();
      at = text.lastIndexOf(final);
    }
    if (at < 0)
      throw fail(
        ErrorCodes.CHAT_TEMPLATE_ERROR,
        "applyChatTemplate: the final message does not appear in the rendered chat",
      );
    text = text.slice(0, at + final.length);
  }
  return text;
}
