/**
 * Input/output components. Each one knows its value type, how to read that value from JSON
 * (`POST /api/predict`) and from a submitted form (the page), and how to render itself as
 * accessible HTML (a labelled control for inputs, a live region fragment for outputs).
 */
import { SpacesError } from "./errors.ts";
import { esc } from "./html.ts";

/** A file as the demo function sees it. On the wire (JSON) `data` is base64. */
export interface FileData {
  name: string;
  /** MIME type, e.g. `image/png`. */
  type: string;
  data: Uint8Array;
}

/** One chat turn. */
export interface ChatMessage {
  role: "user" | "assistant" | "system";
  content: string;
}

/** Class scores for the `label` component: `{ positive: 0.9, negative: 0.1 }`. */
export type LabelScores = Record<string, number>;

export interface Component<T> {
  readonly kind: string;
  readonly label: string;
  /** The value used when a form leaves the field empty (and shown initially). */
  readonly value: T | undefined;
  /** JSON wire value -> function value. Throws `HEARTH_SPACES_BAD_INPUT`. */
  fromJson(v: unknown, where: string): T;
  /** Function value -> JSON wire value. */
  toJson(v: T): unknown;
  /** Submitted form -> function value. */
  fromForm(form: FormData, name: string, where: string): Promise<T>;
  /** A labelled form control, prefilled with `v` when given. */
  input(name: string, id: string, v?: T): string;
  /** The rendered result (inside the output's region). */
  output(v: T): string;
}

/** The value type of a component. */
export type ValueOf<C> = C extends Component<infer T> ? T : never;

const bad = (where: string, expected: string, got: unknown) =>
  new SpacesError(
    "HEARTH_SPACES_BAD_INPUT",
    `${where}: expected ${expected}, got ${typeof got === "string" ? JSON.stringify(got.slice(0, 80)) : JSON.stringify(got)?.slice(0, 80)}`,
  );

const field = (form: FormData, name: string): string | undefined => {
  const v = form.get(name);
  return typeof v === "string" ? v : undefined;
};

function base<T>(kind: string, label: string | undefined, value: T | undefined) {
  return { kind, label: label ?? kind, value };
}

function labelled(id: string, label: string, control: string, hint?: string): string {
  return `<div class="field"><label for="${id}">${esc(label)}</label>${control}${hint ? `<small id="${id}-hint">${esc(hint)}</small>` : ""}</div>`;
}

export interface TextOptions {
  label?: string;
  value?: string;
  placeholder?: string;
  /** Rows; more than 1 gives a textarea. */
  lines?: number;
}

/** Free text (string). */
export function text(o: TextOptions = {}): Component<string> {
  return {
    ...base("text", o.label, o.value),
    fromJson(v, where) {
      if (typeof v !== "string") throw bad(where, "a string", v);
      return v;
    },
    toJson: (v) => v,
    async fromForm(form, name) {
      return field(form, name) ?? o.value ?? "";
    },
    input(name, id, v) {
      const ph = o.placeholder ? ` placeholder="${esc(o.placeholder)}"` : "";
      const c =
        (o.lines ?? 1) > 1
          ? `<textarea id="${id}" name="${name}" rows="${o.lines}"${ph}>${esc(v ?? o.value ?? "")}</textarea>`
          : `<input id="${id}" name="${name}" type="text" value="${esc(v ?? o.value ?? "")}"${ph}>`;
      return labelled(id, this.label, c);
    },
    output: (v) => `<p class="text-out">${esc(v)}</p>`,
  };
}

export interface NumberOptions {
  label?: string;
  value?: number;
  min?: number;
  max?: number;
  step?: number;
}

function numberLike(kind: "number" | "slider", o: NumberOptions): Component<number> {
  const check = (n: number, where: string, got: unknown) => {
    if (!Number.isFinite(n)) throw bad(where, "a finite number", got);
    if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
      throw bad(where, `a number in [${o.min ?? "-inf"}, ${o.max ?? "inf"}]`, got);
    return n;
  };
  return {
    ...base(kind, o.label, o.value),
    fromJson(v, where) {
      if (typeof v !== "number") throw bad(where, "a number", v);
      return check(v, where, v);
    },
    toJson: (v) => v,
    async fromForm(form, name, where) {
      const s = field(form, name);
      if (s === undefined || s.trim() === "") {
        if (o.value !== undefined) return o.value;
        throw bad(where, "a number", s ?? null);
      }
      return check(Number(s), where, s);
    },
    input(name, id, v) {
      const attrs = `${o.min !== undefined ? ` min="${o.min}"` : ""}${o.max !== undefined ? ` max="${o.max}"` : ""} step="${o.step ?? "any"}"`;
      const val = v ?? o.value;
      const valAttr = val !== undefined ? ` value="${val}"` : "";
      if (kind === "slider")
        return labelled(
          id,
          this.label,
          `<input id="${id}" name="${name}" type="range"${attrs}${valAttr} oninput="this.nextElementSibling.value=this.value"><output for="${id}">${val ?? ""}</output>`,
        );
      return labelled(id, this.label, `<input id="${id}" name="${name}" type="number"${attrs}${valAttr}>`);
    },
    output: (v) => `<p class="number-out">${esc(v)}</p>`,
  };
}

/** A number box. */
export const number = (o: NumberOptions = {}): Component<number> => numberLike("number", o);

/** A range slider; `min` and `max` are required. */
export function slider(o: NumberOptions & { min: number; max: number }): Component<number> {
  if (!(o.min < o.max))
    throw new SpacesError("HEARTH_SPACES_BAD_CONFIG", `slider: min must be below max, got ${o.min} and ${o.max}`);
  return numberLike("slider", { step: 1, value: o.min, ...o });
}

/** A checkbox (boolean). */
export function checkbox(o: { label?: string; value?: boolean } = {}): Component<boolean> {
  return {
    ...base("checkbox", o.label, o.value ?? false),
    fromJson(v, where) {
      if (typeof v !== "boolean") throw bad(where, "true or false", v);
      return v;
    },
    toJson: (v) => v,
    async fromForm(form, name) {
      // unchecked boxes are absent from a submitted form; the hidden "0" marks the field as sent
      const all = form.getAll(name).map(String);
      return all.length ? all.includes("1") : (o.value ?? false);
    },
    input(name, id, v) {
      return `<div class="field check"><input type="hidden" name="${name}" value="0"><input id="${id}" name="${name}" type="checkbox" value="1"${(v ?? o.value) ? " checked" : ""}><label for="${id}">${esc(this.label)}</label></div>`;
    },
    output: (v) => `<p class="bool-out">${v ? "Yes" : "No"}</p>`,
  };
}

/** A choice among fixed strings. */
export function dropdown(o: { label?: string; choices: string[]; value?: string }): Component<string> {
  if (!Array.isArray(o.choices) || o.choices.length === 0)
    throw new SpacesError("HEARTH_SPACES_BAD_CONFIG", "dropdown: choices must be a non-empty array of strings");
  const check = (v: unknown, where: string) => {
    if (typeof v !== "string" || !o.choices.includes(v)) throw bad(where, `one of ${JSON.stringify(o.choices)}`, v);
    return v;
  };
  return {
    ...base("dropdown", o.label, o.value ?? o.choices[0]),
    fromJson: check,
    toJson: (v) => v,
    async fromForm(form, name, where) {
      return check(field(form, name) ?? o.value ?? o.choices[0], where);
    },
    input(name, id, v) {
      const sel = v ?? o.value ?? o.choices[0];
      return labelled(
        id,
        this.label,
        `<select id="${id}" name="${name}">${o.choices.map((c) => `<option${c === sel ? " selected" : ""}>${esc(c)}</option>`).join("")}</select>`,
      );
    },
    output: (v) => `<p class="text-out">${esc(v)}</p>`,
  };
}

function fileLike(
  kind: "image" | "audio" | "file",
  o: { label?: string; accept?: string },
  show: (f: FileData, url: string) => string,
): Component<FileData | null> {
  return {
    ...base<FileData | null>(kind, o.label, null),
    fromJson(v, where) {
      if (v === null) return null;
      const f = v as { name?: unknown; type?: unknown; data?: unknown };
      if (!f || typeof f !== "object" || typeof f.data !== "string")
        throw bad(where, "null or {name, type, data: <base64>}", v);
      return {
        name: typeof f.name === "string" ? f.name : kind,
        type: typeof f.type === "string" ? f.type : "application/octet-stream",
        data: new Uint8Array(Buffer.from(f.data, "base64")),
      };
    },
    toJson: (v) => (v ? { name: v.name, type: v.type, data: Buffer.from(v.data).toString("base64") } : null),
    async fromForm(form, name) {
      const v = form.get(name);
      if (!v || typeof v === "string" || v.size === 0) return null;
      return { name: v.name, type: v.type || "application/octet-stream", data: new Uint8Array(await v.arrayBuffer()) };
    },
    input(name, id) {
      const accept = o.accept ?? (kind === "file" ? "" : `${kind}/*`);
      return labelled(
        id,
        this.label,
        `<input id="${id}" name="${name}" type="file"${accept ? ` accept="${accept}"` : ""}>`,
      );
    },
    output(v) {
      if (!v) return `<p class="muted">No ${kind}</p>`;
      return show(v, `data:${v.type};base64,${Buffer.from(v.data).toString("base64")}`);
    },
  };
}

/** An image upload / display. */
export const image = (o: { label?: string } = {}) =>
  fileLike("image", o, (f, url) => `<img src="${url}" alt="${esc(f.name)}">`);
/** An audio upload / player. */
export const audio = (o: { label?: string } = {}) =>
  fileLike("audio", o, (f, url) => `<audio controls src="${url}" aria-label="${esc(f.name)}"></audio>`);
/** Any file upload / download link. */
export const file = (o: { label?: string; accept?: string } = {}) =>
  fileLike(
    "file",
    o,
    (f, url) =>
      `<a download="${esc(f.name)}" href="${url}">${esc(f.name)}</a> <span class="muted">(${f.data.length} bytes)</span>`,
  );

/** Class scores, shown as a ranked list of meters (an output component). */
export function label(o: { label?: string; topK?: number } = {}): Component<LabelScores> {
  const check = (v: unknown, where: string): LabelScores => {
    if (!v || typeof v !== "object" || Array.isArray(v)) throw bad(where, "an object of class -> score", v);
    for (const [k, s] of Object.entries(v)) if (typeof s !== "number") throw bad(`${where}.${k}`, "a number", s);
    return v as LabelScores;
  };
  return {
    ...base<LabelScores>("label", o.label, undefined),
    fromJson: check,
    toJson: (v) => v,
    async fromForm(form, name, where) {
      try {
        return check(JSON.parse(field(form, name) ?? "{}"), where);
      } catch (e) {
        if (e instanceof SpacesError) throw e;
        throw bad(where, "JSON", field(form, name));
      }
    },
    input(name, id, v) {
      return labelled(id, this.label, `<textarea id="${id}" name="${name}">${esc(JSON.stringify(v ?? {}))}</textarea>`);
    },
    output(v) {
      const top = Object.entries(v)
        .sort((a, b) => b[1] - a[1])
        .slice(0, o.topK ?? 5);
      const best = top[0];
      return `<p class="label-top">${best ? esc(best[0]) : ""}</p><ul class="scores">${top
        .map(
          ([k, s]) =>
            `<li><span class="cls">${esc(k)}</span> <meter min="0" max="1" value="${s}" aria-label="${esc(k)}"></meter> <span class="score">${(s * 100).toFixed(1)}%</span></li>`,
        )
        .join("")}</ul>`;
    },
  };
}

/** Any JSON value. */
export function json(o: { label?: string; value?: unknown } = {}): Component<unknown> {
  return {
    ...base<unknown>("json", o.label, o.value),
    fromJson: (v) => v,
    toJson: (v) => v,
    async fromForm(form, name, where) {
      const s = field(form, name);
      if (s === undefined || s.trim() === "") return o.value ?? null;
      try {
        return JSON.parse(s);
      } catch {
        throw bad(where, "JSON text", s);
      }
    },
    input(name, id, v) {
      const shown = v ?? o.value;
      return labelled(
        id,
        this.label,
        `<textarea id="${id}" name="${name}" rows="4" spellcheck="false">${shown === undefined ? "" : esc(JSON.stringify(shown, null, 2))}</textarea>`,
      );
    },
    output: (v) => `<pre class="json-out">${esc(JSON.stringify(v, null, 2))}</pre>`,
  };
}

/** A conversation: as an input, the history plus a box for the next user message. */
export function chat(o: { label?: string } = {}): Component<ChatMessage[]> {
  const check = (v: unknown, where: string): ChatMessage[] => {
    if (!Array.isArray(v)) throw bad(where, "an array of {role, content}", v);
    return v.map((m, i) => {
      const x = m as { role?: unknown; content?: unknown };
      if (!x || !["user", "assistant", "system"].includes(x.role as string) || typeof x.content !== "string")
        throw bad(`${where}[${i}]`, "{role: user|assistant|system, content: string}", m);
      return { role: x.role as ChatMessage["role"], content: x.content };
    });
  };
  return {
    ...base<ChatMessage[]>("chat", o.label, []),
    fromJson: check,
    toJson: (v) => v,
    async fromForm(form, name, where) {
      let history: ChatMessage[] = [];
      const h = field(form, `${name}__history`);
      if (h) {
        try {
          history = check(JSON.parse(h), where);
        } catch (e) {
          if (e instanceof SpacesError) throw e;
          throw bad(where, "a JSON chat history", h);
        }
      }
      const msg = field(form, name) ?? "";
      return msg ? [...history, { role: "user", content: msg }] : history;
    },
    input(name, id, v) {
      const history = v ?? [];
      return `${history.length ? this.output(history) : ""}<input type="hidden" name="${name}__history" value="${esc(JSON.stringify(history))}">${labelled(id, this.label, `<textarea id="${id}" name="${name}" rows="2"></textarea>`)}`;
    },
    output(v) {
      return `<ol class="chat">${v.map((m) => `<li class="msg ${m.role}"><b>${m.role}</b> ${esc(m.content)}</li>`).join("")}</ol>`;
    },
  };
}
