/** The dashboard's style sheet (served as /style.css; no build step). */
export const STYLE_CSS = String.raw`
:root { --done:#2e9d57; --error:#d64545; --locked:#e6a23c; --todo:#c9ced6; --ink:#1f2933; --muted:#66707c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --accent:#2f6fde; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:18px; padding:10px 22px; background:#1f2933; color:#fff; }
.brand { font-weight:700; font-size:17px; letter-spacing:.3px; }
.brand .db, .login .db { font-weight:400; opacity:.85; margin-left:6px; }
.where { color:#b8c2cc; font-size:13px; flex:1; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.live { font-size:12px; padding:2px 10px; border-radius:10px; background:#2e9d57; }
.live.off { background:#7b8794; }
.live::before { content:"● "; }
.logout button { background:transparent; color:#fff; border:1px solid #52606d; }
main { padding:18px 22px 60px; max-width:1500px; margin:0 auto; }
.banner { background:#fff4e0; border-bottom:1px solid #f0c36d; padding:8px 22px; color:#8a5a00; }
.cards { display:grid; grid-template-columns: 1.5fr 1fr 1fr 2fr; gap:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; min-width:0; }
.card-title { font-size:12px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); }
.card-title.spaced { margin-top:12px; }
.big { font-size:34px; font-weight:650; line-height:1.2; margin:4px 0; font-variant-numeric: tabular-nums; }
.mid { font-size:20px; font-weight:600; font-variant-numeric: tabular-nums; }
.unit { font-size:13px; font-weight:400; color:var(--muted); margin-left:6px; }
.sub { color:var(--muted); font-size:12.5px; }
.stackbar { display:flex; height:16px; border-radius:4px; overflow:hidden; background:var(--todo); margin:8px 0 10px; }
.stackbar div { height:100%; }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; font-variant-numeric: tabular-nums; }
.legend span { white-space:nowrap; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.s-done { background:var(--done); } .s-error { background:var(--error); } .s-locked { background:var(--locked); } .s-todo { background:var(--todo); }
.chart { height:150px; }
.chart svg { width:100%; height:100%; display:block; }
.chart .axis { fill:var(--muted); font-size:10px; }
.chart .gridline { stroke:var(--line); }
.note { margin-top:12px; padding:8px 12px; background:#fff4e0; border:1px solid #f0c36d; border-radius:6px; color:#8a5a00; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px 14px; margin-top:16px; }
h2 { font-size:15px; margin:2px 0 10px; }
h2 .count { font-weight:400; color:var(--muted); margin-left:6px; }
table.grid { width:100%; border-collapse:collapse; table-layout:auto; }
table.grid th { text-align:left; font-weight:600; font-size:12px; color:var(--muted); border-bottom:1px solid var(--line); padding:5px 8px; }
table.grid td { border-bottom:1px solid #f0f2f4; padding:5px 8px; vertical-align:top; }
table.grid td.num, table.grid th.num { text-align:right; font-variant-numeric: tabular-nums; }
table.grid tr.empty td { color:var(--muted); font-style:italic; }
td.id { white-space:nowrap; }
#tokens td.mono.muted { max-width:0; width:45%; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
#tokens td { white-space:nowrap; }
td.id a, a.tok { color:var(--accent); text-decoration:none; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; cursor:pointer; word-break:break-all; }
td.id a:hover { text-decoration:underline; }
pre.tail { margin:0; font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,monospace; white-space:pre-wrap; word-break:break-word; color:#7a1f1f; }
.mono { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; }
.muted { color:var(--muted); }
.badge { display:inline-block; padding:0 7px; border-radius:9px; font-size:12px; color:#fff; }
.badge.todo { background:#8a94a1; } .badge.locked { background:var(--locked); } .badge.done { background:var(--done); } .badge.error { background:var(--error); }
.badge.running { background:var(--done); } .badge.draining { background:var(--locked); }
button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid #cbd2d9; background:#fff; cursor:pointer; }
button:hover:not([disabled]) { border-color:var(--accent); }
button[disabled] { opacity:.45; cursor:default; }
button.warn { border-color:#e6a23c; } button.danger { border-color:var(--error); color:var(--error); }
.actions { display:flex; flex-wrap:wrap; align-items:center; gap:10px; }
.hint { color:var(--muted); font-size:12.5px; }
.browser-bar { display:flex; flex-wrap:wrap; gap:10px; align-items:center; margin-bottom:8px; }
.tabs button { border-radius:0; margin-right:-1px; }
.tabs button:first-child { border-radius:6px 0 0 6px; } .tabs button:last-child { border-radius:0 6px 6px 0; }
.tabs button.on { background:#1f2933; color:#fff; border-color:#1f2933; }
#prefix { padding:5px 9px; border:1px solid #cbd2d9; border-radius:6px; min-width:220px; font:inherit; }
.spacer { flex:1; }
th.check, td.check { width:28px; }
.pager { display:flex; gap:12px; align-items:center; justify-content:flex-end; margin-top:8px; color:var(--muted); }
.drawer { position:fixed; top:0; right:0; bottom:0; width:min(760px,96vw); background:#fff; border-left:1px solid var(--line); box-shadow:-8px 0 24px rgba(0,0,0,.08); display:flex; flex-direction:column; z-index:10; }
.drawer-head { display:flex; align-items:center; justify-content:space-between; padding:12px 18px; border-bottom:1px solid var(--line); }
.drawer-head h2 { margin:0; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; word-break:break-all; }
.drawer-body { padding:14px 18px 40px; overflow:auto; }
.drawer-body dl { display:grid; grid-template-columns: 130px 1fr; gap:4px 12px; margin:0 0 12px; }
.drawer-body dt { color:var(--muted); }
.drawer-body dd { margin:0; word-break:break-word; }
.drawer-body h3 { font-size:13px; margin:16px 0 6px; }
pre.log { background:#0f1720; color:#e4e7eb; padding:10px 12px; border-radius:6px; font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace; white-space:pre-wrap; word-break:break-word; max-height:360px; overflow:auto; margin:0; }
pre.log.err { color:#ffc9c9; }
dialog { border:1px solid var(--line); border-radius:10px; padding:18px 20px; max-width:520px; box-shadow:0 10px 30px rgba(0,0,0,.15); }
dialog::backdrop { background:rgba(15,23,32,.35); }
.dialog-buttons { display:flex; justify-content:flex-end; gap:10px; margin-top:14px; }
.toast { position:fixed; bottom:18px; left:50%; transform:translateX(-50%); background:#1f2933; color:#fff; padding:9px 16px; border-radius:8px; max-width:80vw; z-index:20; }
.toast.bad { background:var(--error); }
.login-page { display:flex; align-items:center; justify-content:center; min-height:100vh; }
.login { background:#fff; border:1px solid var(--line); border-radius:10px; padding:24px 28px; width:380px; display:flex; flex-direction:column; gap:12px; }
.login h1 { font-size:20px; margin:0; }
.login label { display:flex; flex-direction:column; gap:4px; color:var(--muted); font-size:13px; }
.login input { padding:7px 9px; border:1px solid #cbd2d9; border-radius:6px; font:inherit; color:var(--ink); }
.problem { color:var(--error); margin:0; }
@media (max-width: 1100px) { .cards { grid-template-columns: 1fr 1fr; } }
`;
