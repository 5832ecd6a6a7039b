/**
 * The Space page (the app embedded in a sandboxed frame, its status, linked models and datasets,
 * live build/run logs for owners) and the settings page (secrets and variables).
 * Secret values are never rendered: only their keys.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RepoRow } from "../db/types.ts";
import { HubServerError } from "../errors.ts";
import { spaceHostLabel } from "../spaces/config.ts";
import type { SpaceManager, SpaceRuntime } from "../spaces/manager.ts";
import { SpaceSettingsStore } from "../spaces/settings-store.ts";
import { type Html, html, layout, raw } from "../ui/html.ts";

type P = { ns: string; name: string };

const css = `<style>.space-head{display:flex;gap:12px;align-items:center;flex-wrap:wrap}.emoji{font-size:28px}
.stage{font-size:12px;font-weight:600;border-radius:12px;padding:2px 10px;background:#f1f3f5}.stage.RUNNING{background:#d3f9d8;color:#2b8a3e}
.stage.BUILDING,.stage.APP_STARTING,.stage.RUNNING_BUILDING{background:#fff3bf;color:#8f5d00}.stage.SLEEPING,.stage.PAUSED,.stage.STOPPED{background:#e7f5ff;color:#1864ab}
.stage.BUILD_ERROR,.stage.RUNTIME_ERROR,.stage.CONFIG_ERROR,.stage.NO_APP_FILE{background:#ffe3e3;color:#c92a2a}
iframe.app{width:100%;height:640px;border:1px solid #e5e7eb;border-radius:10px}
pre.log{background:#111;color:#eee;padding:10px;border-radius:8px;max-height:260px;overflow:auto;font-size:12px}</style>`;

export async function spacePages(app: FastifyInstance): Promise<void> {
  const spaces = app.hub.spaces as SpaceManager;
  const page = (reply: FastifyReply, req: FastifyRequest, title: string, body: Html, code = 200) =>
    reply
      .code(code)
      .type("text/html; charset=utf-8")
      .send(layout(title, req.caller, html`${raw(css)}${body}`));

  async function load(req: FastifyRequest<{ Params: P }>, reply: FastifyReply) {
    try {
      const r = await app.hub.repos.getReadable("space", req.params.ns, req.params.name, req.caller);
      return { r, s: await spaces.get(r), canWrite: await app.hub.repos.canWrite(req.caller, r) };
    } catch (e) {
      if (e instanceof HubServerError && e.status < 500) {
        page(
          reply,
          req,
          "Not found",
          html`<h1>404</h1><p>Space ${req.params.ns}/${req.params.name} not found.</p>`,
          404,
        );
        return undefined;
      }
      throw e;
    }
  }

  function header(r: RepoRow, s: SpaceRuntime, tab: "app" | "settings", canWrite: boolean): Html {
    const base = `/spaces/${r.namespace}/${r.name}`;
    const c = s.config;
    return html`<div class="space-head"><span class="emoji" aria-hidden="true">${c?.emoji ?? "🔥"}</span><h1 class="repo"><span class="kind">space</span>${r.namespace}/<span>${r.name}</span></h1>
<span class="stage ${s.stage}" id="space-stage" role="status">${s.stage.toLowerCase().replace(/_/g, " ")}</span>${c?.sdk ? html`<span class="badge">sdk: ${c.sdk}</span>` : ""}${c?.license ? html`<span class="badge">license: ${c.license}</span>` : ""}${c?.pinned ? html`<span class="badge">pinned</span>` : ""}</div>
${c?.title ? html`<p><b>${c.title}</b>${c.shortDescription ? html` · ${c.shortDescription}` : ""}</p>` : ""}
<div class="tabs"><a class="${tab === "app" ? "on" : ""}" href="${base}">App</a><a href="${base}/tree/main">Files</a><a href="${base}/commits/main">Commits</a>${canWrite ? html`<a class="${tab === "settings" ? "on" : ""}" href="${base}/settings">Settings</a>` : ""}</div>`;
  }

  app.get<{ Params: P }>("/spaces/:ns/:name", async (req, reply) => {
    const v = await load(req, reply);
    if (!v) return reply;
    const { r, s, canWrite } = v;
    const c = s.config;
    const base = `/spaces/${r.namespace}/${r.name}`;
    const links =
      c && (c.models.length || c.datasets.length)
        ? html`<p id="space-links">${c.models.map((m) => html`<a class="badge" href="/${m}">model: ${m}</a>`)}${c.datasets.map((d) => html`<a class="badge" href="/datasets/${d}">dataset: ${d}</a>`)}</p>`
        : "";
    const showApp =
      s.stage === "RUNNING" ||
      s.stage === "SLEEPING" ||
      s.stage === "APP_STARTING" ||
      s.stage === "STOPPED" ||
      s.stage === "RUNNING_BUILDING";
    // with a per-Space origin the app is its own site and may keep its own storage
    const domain = spaces.opts.originDomain;
    const hubUrl = new URL(app.hub.baseUrl(req));
    const src = domain
      ? `${hubUrl.protocol}//${spaceHostLabel(r)}.${domain}${hubUrl.port ? `:${hubUrl.port}` : ""}/`
      : `${base}/app/`;
    const sandbox = `allow-scripts allow-forms allow-popups allow-downloads allow-modals${domain ? " allow-same-origin" : ""}`;
    const frame = showApp
      ? html`<iframe class="app" id="space-app" title="${c?.title ?? r.name} (Space app)" src="${src}" sandbox="${sandbox}"></iframe>`
      : html`<div class="error" id="space-error">${s.errorMessage ?? `This Space is ${s.stage.toLowerCase().replace(/_/g, " ")}.`}</div>`;
    const logs = canWrite
      ? html`<h2>Logs</h2><details open><summary>Build</summary><pre class="log" id="log-build" aria-live="polite">${s.buildLog.text()}</pre></details>
<details open><summary>Run</summary><pre class="log" id="log-run" aria-live="polite">${s.runLog.text()}</pre></details>
<script>for(const k of ["build","run"]){const el=document.getElementById("log-"+k);if(!window.EventSource)continue;el.textContent="";const es=new EventSource("/api/spaces/${raw(encodeURIComponent(r.namespace))}/${raw(encodeURIComponent(r.name))}/logs/"+k);es.onmessage=(e)=>{el.textContent+=JSON.parse(e.data).data;el.scrollTop=el.scrollHeight;};}</script>`
      : "";
    // the status badge follows the runtime; a Space that becomes ready shows its app
    const api = `/api/spaces/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/runtime`;
    const status = html`<script>(()=>{const b=document.getElementById("space-stage");let last=b.className;setInterval(async()=>{try{const r=await (await fetch(${raw(JSON.stringify(api))})).json();
b.textContent=r.stage.toLowerCase().replace(/_/g," ");b.className="stage "+r.stage;if(r.stage==="RUNNING"&&!document.getElementById("space-app")&&last!==b.className)location.reload();last=b.className;}catch{}},3000);})();</script>`;
    return page(
      reply,
      req,
      `${r.namespace}/${r.name}`,
      html`${header(r, s, "app", canWrite)}${links}${frame}${logs}${status}`,
    );
  });

  async function settingsPage(req: FastifyRequest<{ Params: P }>, reply: FastifyReply, error?: string) {
    const v = await load(req, reply);
    if (!v) return reply;
    const { r, s, canWrite } = v;
    if (!canWrite)
      return page(
        reply,
        req,
        "Forbidden",
        html`<h1>403</h1><p>Only the Space's owners may change its settings.</p>`,
        req.caller ? 403 : 401,
      );
    const base = `/spaces/${r.namespace}/${r.name}/settings`;
    const secrets = await spaces.settings.secrets(r.id);
    const variables = await spaces.settings.variables(r.id);
    const row = (kind: string, key: string, value: Html | string, desc?: string) =>
      html`<tr><td><code>${key}</code></td><td>${value}</td><td class="muted">${desc ?? ""}</td><td><form method="post" action="${base}/${kind}/delete"><input type="hidden" name="key" value="${key}"><button aria-label="Delete ${key}">Delete</button></form></td></tr>`;
    const form = (kind: string, valueType: string) =>
      html`<form class="box" method="post" action="${base}/${kind}"><label>Name <input name="key" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="128"></label>
<label>Value <input name="value" type="${valueType}" autocomplete="off"></label><label>Description <input name="description" maxlength="500"></label><button class="primary">Add ${kind === "secrets" ? "secret" : "variable"}</button></form>`;
    return page(
      reply,
      req,
      `Settings of ${r.namespace}/${r.name}`,
      html`${header(r, s, "settings", canWrite)}${error ? html`<div class="error" role="alert">${error}</div>` : ""}
<h2>Secrets</h2><p class="muted">Given to the app as environment variables. Values are write-only: they are never shown again, and are replaced by *** in logs.</p>
<table class="files" id="secrets">${secrets.map((x) => row("secrets", x.key, html`<span class="muted">hidden</span>`, x.description))}</table>${form("secrets", "password")}
<h2>Variables</h2><p class="muted">Public configuration, also given as environment variables.</p>
<table class="files" id="variables">${variables.map((x) => row("variables", x.key, html`<code>${x.value}</code>`, x.description))}</table>${form("variables", "text")}`,
      error ? 400 : 200,
    );
  }

  app.get<{ Params: P }>("/spaces/:ns/:name/settings", (req, reply) => settingsPage(req, reply));
  for (const kind of ["secrets", "variables"] as const) {
    app.post<{ Params: P }>(`/spaces/:ns/:name/settings/${kind}`, async (req, reply) => {
      const v = await load(req, reply);
      if (!v) return reply;
      if (!v.canWrite) return settingsPage(req, reply);
      const b = (req.body ?? {}) as { key?: string; value?: string; description?: string };
      try {
        SpaceSettingsStore.checkKey(`add ${kind}`, b.key);
        await spaces.settings.set(kind, v.r.id, b.key as string, b.value ?? "", b.description);
      } catch (e) {
        if (e instanceof HubServerError) return settingsPage(req, reply, e.message);
        throw e;
      }
      void v.s.restart();
      return reply.redirect(`/spaces/${v.r.namespace}/${v.r.name}/settings`, 303);
    });
    app.post<{ Params: P }>(`/spaces/:ns/:name/settings/${kind}/delete`, async (req, reply) => {
      const v = await load(req, reply);
      if (!v) return reply;
      if (!v.canWrite) return settingsPage(req, reply);
      const b = (req.body ?? {}) as { key?: string };
      if (await spaces.settings.remove(kind, v.r.id, String(b.key))) void v.s.restart();
      return reply.redirect(`/spaces/${v.r.namespace}/${v.r.name}/settings`, 303);
    });
  }
}
