/**
 * The demo page: a plain HTML form that works without JavaScript (POST, then the result page),
 * enhanced by a small script that submits through the queue and shows position and progress.
 */
import type { AnyComponent, Demo } from "./demo.ts";
import { esc } from "./html.ts";

export interface PageState {
  values?: unknown[];
  outputs?: string[];
  result?: unknown[];
  error?: string;
}

const css = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2328}main{max-width:980px;margin:0 auto;padding:18px}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:18px}@media(max-width:700px){.cols{grid-template-columns:1fr}}
fieldset,section.out{border:1px solid #d0d7de;border-radius:10px;padding:12px 16px;margin:0}
.field{display:flex;flex-direction:column;gap:4px;margin-bottom:12px}.field.check{flex-direction:row;align-items:center}
input[type=text],input[type=number],textarea,select{font:inherit;padding:6px 8px;border:1px solid #8c959f;border-radius:6px}
button{font:inherit;padding:8px 18px;border-radius:8px;border:1px solid #8c959f;background:#f6f8fa;cursor:pointer}
button.primary{background:#e8590c;border-color:#b8460a;color:#fff}:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.status{min-height:1.5em}.error{background:#fff5f5;border:1px solid #ffc9c9;padding:8px 12px;border-radius:8px}
.scores{list-style:none;padding:0}.scores li{display:grid;grid-template-columns:8em 1fr 4em;gap:8px;align-items:center}
.label-top{font-size:22px;font-weight:600;margin:4px 0}.muted{color:#57606a}img,audio{max-width:100%}
table.examples{border-collapse:collapse}table.examples td,table.examples th{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
ol.chat{list-style:none;padding:0}ol.chat li{padding:4px 8px;border-radius:8px;margin:4px 0;background:#f6f8fa}ol.chat li.user{background:#e7f5ff}`;

const script = `(()=>{const f=document.getElementById("demo-form");if(!f||!window.fetch)return;
const st=document.getElementById("status"),pr=document.getElementById("progress"),btn=f.querySelector("button[type=submit]");
f.addEventListener("submit",async(e)=>{e.preventDefault();btn.disabled=true;pr.hidden=false;pr.removeAttribute("value");st.textContent="Queued";
document.getElementById("outputs").setAttribute("aria-busy","true");
try{let r=await fetch("api/queue/join",{method:"POST",body:new FormData(f)});let s=await r.json();
while(r.ok&&(s.status==="queued"||s.status==="running")){
if(s.status==="queued")st.textContent="Queued: position "+(s.position+1);
else{const p=s.progress||{fraction:0};pr.value=p.fraction;st.textContent="Running"+(p.desc?": "+p.desc:"")+" ("+Math.round(p.fraction*100)+"%)";}
await new Promise(k=>setTimeout(k,150));r=await fetch("api/queue/"+s.id);s=await r.json();}
if(!r.ok||s.status==="error"){const m=(s.error&&s.error.message)||("HTTP "+r.status);st.textContent="Error: "+m;}
else{s.html.forEach((h,i)=>{document.getElementById("out"+i).innerHTML=h;});st.textContent="Done in "+s.duration.toFixed(2)+" s";pr.value=1;}
}catch(err){st.textContent="Error: "+err.message;}finally{btn.disabled=false;document.getElementById("outputs").setAttribute("aria-busy","false");}});})();`;

function examplesTable(d: Demo<readonly AnyComponent[], readonly AnyComponent[]>): string {
  const ex = d.options.examples;
  if (!ex?.length) return "";
  const cell = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v)?.slice(0, 60));
  return `<section aria-labelledby="ex-h"><h2 id="ex-h">Examples</h2><table class="examples"><thead><tr>${d.options.inputs
    .map((c) => `<th scope="col">${esc(c.label)}</th>`)
    .join("")}<th scope="col"><span class="muted">Use</span></th></tr></thead><tbody>${ex
    .map(
      (row, i) =>
        `<tr>${(row as unknown[]).map((v) => `<td>${esc(cell(v))}</td>`).join("")}<td><a href="?example=${i}" aria-label="Use example ${i + 1}">Use</a></td></tr>`,
    )
    .join("")}</tbody></table></section>`;
}

/** The whole page for `d`, with the form prefilled from `s.values` and outputs from `s.outputs`. */
export function renderPage(d: Demo<readonly AnyComponent[], readonly AnyComponent[]>, s: PageState = {}): string {
  const { inputs, outputs } = d.options;
  const chatOut = s.result ? outputs.findIndex((c) => c.kind === "chat") : -1;
  const fields = inputs
    .map((c, i) => {
      const v = c.kind === "chat" && chatOut >= 0 ? s.result?.[chatOut] : s.values?.[i];
      return c.input(`in${i}`, `in${i}`, v);
    })
    .join("");
  const outs = outputs
    .map(
      (c, i) =>
        `<section class="out" aria-labelledby="out${i}-h"><h3 id="out${i}-h">${esc(c.label)}</h3><div id="out${i}" class="out-body">${s.outputs?.[i] ?? '<p class="muted">No result yet</p>'}</div></section>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(d.title)}</title><style>${css}</style></head><body><main><h1>${esc(d.title)}</h1>${d.options.description ? `<p>${esc(d.options.description)}</p>` : ""}
<div class="cols"><form id="demo-form" method="post" action="./" enctype="multipart/form-data"><fieldset><legend>Inputs</legend>${fields}
<button class="primary" type="submit">Submit</button> <button type="reset">Clear</button></fieldset></form>
<div id="outputs" aria-live="polite" aria-busy="false"><h2>Result</h2><p id="status" class="status" role="status">${s.error ? "" : s.outputs ? "Done" : ""}</p>
${s.error ? `<p class="error" role="alert">${esc(s.error)}</p>` : ""}<progress id="progress" max="1" aria-label="Progress" hidden></progress>${outs}</div></div>
${examplesTable(d)}<p class="muted">API: <code>POST api/predict</code> with <code>{"data": [...]}</code> · <a href="api/info">api/info</a></p></main>
<script>${script}</script></body></html>`;
}
