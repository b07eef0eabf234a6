/*
 * Every asset the console uses, shipped inside the package (no CDN, no font service): one
 * stylesheet with system fonts, one script that only enhances (the copy button). Served from
 * /admin/static/ by the console itself.
 */

const css = `
:root { --ink: #1f2933; --muted: #52606d; --line: #cbd2d9; --bg: #f5f7fa; --brand: #264b5d; --link: #1d5a80; --danger: #a61b1b; --ok: #1e6b3a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--link); }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1.5rem; padding: .75rem 1.5rem; background: var(--brand); color: #fff; }
.top a { color: #fff; }
.brand { font-weight: 600; font-size: 1.1rem; text-decoration: none; }
.top nav a { margin-right: 1rem; }
.signout { margin-left: auto; display: flex; gap: .75rem; align-items: center; }
.signout button { background: transparent; color: #fff; border: 1px solid #fff; }
main { padding: 1.25rem 1.5rem 3rem; max-width: 82rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
.crumbs { font-size: .9rem; color: var(--muted); margin-bottom: .5rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.narrow { max-width: 36rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
label { font-weight: 600; display: inline-block; margin-bottom: .2rem; }
fieldset label, .switches label { font-weight: normal; margin-right: 1rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .3rem; }
input:not([type=checkbox]):not([type=radio]), select, textarea { display: block; width: 100%; max-width: 32rem; padding: .4rem .5rem; font: inherit; border: 1px solid #7b8794; border-radius: 4px; background: #fff; color: var(--ink); }
input[readonly] { background: #eef2f6; }
small { display: block; color: var(--muted); font-size: .85rem; }
button, .button { display: inline-block; font: inherit; padding: .4rem .9rem; border-radius: 4px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--brand); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.flash { padding: .6rem .9rem; border-radius: 4px; background: #e3f4e8; border: 1px solid #9fd3ae; color: var(--ok); }
.flash.error { background: #fbe9e9; border-color: #e5a5a5; color: var(--danger); }
.errors { padding: .6rem .9rem .6rem 2rem; border-radius: 4px; background: #fbe9e9; border: 1px solid #e5a5a5; color: var(--danger); }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #e4e9ef; }
td.free { max-width: 18rem; overflow-wrap: anywhere; }
td.actions a { margin-right: .5rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; max-width: 32rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
.filters p { margin: 0; }
.filters input, .filters select { width: 12rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
.facts dt { font-weight: 600; } .facts dd { margin: 0; }
.key-once .warning { padding: .6rem .9rem; background: #fff4d6; border: 1px solid #e0b84a; border-radius: 4px; }
.key output { display: inline-block; font: 1.05rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: .4rem .6rem; background: #eef2f6; border: 1px solid var(--line); border-radius: 4px; overflow-wrap: anywhere; }
.pager { display: flex; gap: 1rem; align-items: center; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const js = `'use strict';
// Enhancements only: every page works without this file.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(target.textContent.trim()).then(
      function () { button.textContent = 'Copied'; },
      function () { button.textContent = 'Select and copy the key by hand'; }
    );
  });
});
`;

export interface Asset {
  type: string;
  body: string;
}

export const ASSETS: Record<string, Asset> = {
  'admin.css': { type: 'text/css; charset=utf-8', body: css },
  'admin.js': { type: 'text/javascript; charset=utf-8', body: js },
};
