/**
 * The page's stylesheet and its one small script, served from memory with a content hash in the
 * URL (cached for a day). Kept as strings here rather than files on disk because the build (tsc)
 * compiles only TypeScript, so a file beside the sources would not reach dist/.
 */
import { createHash } from 'node:crypto';

export const PAGE_CSS = `
:root{color-scheme:light;--ink:#1b1f24;--muted:#4a5260;--line:#c9ced6;--accent:#0b57d0;--ok:#146c2e;--bad:#a4161a;--bg:#ffffff;--soft:#f3f5f8}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:8px;z-index:2}
header.top{background:var(--soft);border-bottom:1px solid var(--line);padding:16px}
main{max-width:44rem;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.2rem;margin:24px 0 8px}
.facts{margin:8px 0 0;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}.facts dt{color:var(--muted)}.facts dd{margin:0}
ol.progress{list-style:none;margin:16px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
ol.progress li{flex:1 1 6.5rem;border:2px solid var(--line);border-radius:6px;padding:6px 8px;font-size:.9rem;background:var(--bg)}
ol.progress li.done{border-color:var(--ok)}ol.progress li.done::before{content:"\\2713  ";color:var(--ok)}
ol.progress li.current{border-color:var(--accent);font-weight:700}ol.progress li.current::before{content:"\\25B6  ";color:var(--accent)}
ol.progress li.blocked{border-color:var(--bad);font-weight:700;color:var(--bad)}ol.progress li.blocked::before{content:"\\2715  "}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.panel{border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
.alert{border:2px solid var(--bad);border-radius:8px;padding:12px 16px;margin:16px 0;color:var(--bad);background:#fff5f5}
.notice{border:2px solid var(--ok);border-radius:8px;padding:12px 16px;margin:16px 0;background:#f2fbf4}
button{font:inherit;padding:10px 18px;border-radius:6px;border:2px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;min-height:44px}
button.secondary{background:var(--bg);color:var(--accent)}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f4b400;outline-offset:2px}
fieldset{border:1px solid var(--line);border-radius:6px;margin:12px 0;padding:8px 12px}legend{font-weight:700;padding:0 4px}
label{display:block;margin:6px 0}input[type=text]{font:inherit;width:100%;padding:8px;border:1px solid var(--muted);border-radius:4px}
.hint{color:var(--muted);font-size:.9rem;margin:2px 0 8px}
footer{color:var(--muted);font-size:.85rem;max-width:44rem;margin:24px auto;padding:0 16px}
@media (max-width:30rem){ol.progress li{flex-basis:calc(50% - 6px)}}
`;

/** Live refresh: polls the page's state and, when it changed, swaps in the new progress and step. */
export const PAGE_JS = `(function(){
var body=document.body,status=body.getAttribute('data-status'),version=body.getAttribute('data-version');
if(!status||!window.fetch||!window.DOMParser)return;
var dirty=false;document.addEventListener('input',function(){dirty=true});
function focusIn(id){var el=document.getElementById(id),a=document.activeElement;return !!(el&&a&&a!==body&&el.contains(a))}
function swap(doc,id){var next=doc.getElementById(id),cur=document.getElementById(id);if(next&&cur)cur.replaceWith(next)}
function refresh(){return fetch(location.pathname,{cache:'no-store',credentials:'same-origin'}).then(function(r){
if(!r.ok){location.reload();return}return r.text().then(function(text){
var doc=new DOMParser().parseFromString(text,'text/html');var keep=dirty||focusIn('step');swap(doc,'progress');if(!keep)swap(doc,'step');
version=doc.body.getAttribute('data-version');body.setAttribute('data-version',version);
var note=document.getElementById('live-note');if(note)note.textContent=keep?'The progress above was updated. Reload the page to see the latest details.':'This page was updated.'})})}
function tick(){fetch(status,{cache:'no-store',credentials:'same-origin'}).then(function(r){
if(r.status===404||r.status===410){location.reload();return null}return r.ok?r.json():null}).then(function(s){
if(s&&s.version&&s.version!==version)return refresh()}).catch(function(){}).then(function(){setTimeout(tick,3000)})}
setTimeout(tick,3000)})();`;

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

export const ASSETS = {
  css: { path: `/migrate/assets/page.${hash(PAGE_CSS)}.css`, body: PAGE_CSS, type: 'text/css; charset=utf-8' },
  js: { path: `/migrate/assets/page.${hash(PAGE_JS)}.js`, body: PAGE_JS, type: 'text/javascript; charset=utf-8' },
} as const;
