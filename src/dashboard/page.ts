/** The dashboard's HTML: a static shell filled by app.js. Values put in here are escaped (`esc`). */

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

export function pageHtml(p: { database: string; server: string; user: string; csrf: string; canLogout: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${esc(p.csrf)}">
<title>picas · ${esc(p.database)}</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="data:,">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <div class="brand">picas <span class="db">${esc(p.database)}</span></div>
  <div class="where">${esc(p.server)}${p.user ? ` · ${esc(p.user)}` : ''}</div>
  <div id="live" class="live off">connecting…</div>
  ${p.canLogout ? '<form method="post" action="/logout" class="logout"><button type="submit">log out</button></form>' : ''}
</header>
<div id="banner" class="banner" hidden></div>
<main>
  <section class="cards">
    <div class="card wide" id="progress-card">
      <div class="card-title">Progress</div>
      <div class="big"><span id="pct">–</span><span class="unit">% finished</span></div>
      <div class="stackbar" id="stackbar"></div>
      <div class="legend" id="legend"></div>
    </div>
    <div class="card">
      <div class="card-title">Rate</div>
      <div class="big"><span id="rate">–</span><span class="unit">tokens/min</span></div>
      <div class="sub" id="rate-sub"></div>
      <div class="card-title spaced">Time to finish</div>
      <div class="mid" id="eta">–</div>
      <div class="sub" id="eta-sub"></div>
    </div>
    <div class="card">
      <div class="card-title">Pilots</div>
      <div class="big"><span id="npilots">–</span><span class="unit">active</span></div>
      <div class="sub" id="pilots-sub"></div>
      <div class="card-title spaced">Expired leases</div>
      <div class="mid" id="expired">–</div>
      <div class="sub" id="expired-sub"></div>
    </div>
    <div class="card chart-card">
      <div class="card-title" id="chart-title">Finished per minute</div>
      <div id="chart" class="chart"></div>
    </div>
  </section>
  <div id="index-note" class="note" hidden></div>

  <section class="panel">
    <h2>Pilots <span class="count" id="pilots-count"></span></h2>
    <table class="grid" id="pilots"><thead><tr><th>pilot</th><th>host</th><th>job</th><th class="num">done</th><th>running (at last heartbeat)</th><th>last heartbeat</th><th>state</th></tr></thead><tbody></tbody></table>
  </section>

  <section class="panel">
    <h2>Recent errors <span class="count" id="errors-count"></span></h2>
    <table class="grid" id="errors"><thead><tr><th>token</th><th class="num">exit</th><th>when</th><th>host</th><th>stderr (last lines)</th></tr></thead><tbody></tbody></table>
  </section>

  <section class="panel">
    <h2>Actions</h2>
    <div class="actions">
      <button id="act-reset-expired" type="button">Reset expired leases</button>
      <button id="act-retry-errors" type="button">Retry all errors</button>
      <button id="act-drain" type="button" class="warn">Drain pilots</button>
      <span class="hint">Draining takes effect at each pilot's next lease renewal: pilots finish their current tokens, claim no more, and stop.</span>
    </div>
  </section>

  <section class="panel">
    <h2>Tokens</h2>
    <div class="browser-bar">
      <div class="tabs" id="state-tabs">
        <button type="button" data-state="" class="on">all</button><button type="button" data-state="todo">todo</button><button type="button" data-state="locked">locked</button><button type="button" data-state="done">done</button><button type="button" data-state="error">error</button>
      </div>
      <input id="prefix" type="search" placeholder="id starts with…" autocomplete="off" spellcheck="false">
      <span class="spacer"></span>
      <button id="sel-reset" type="button" disabled>Reset selected</button>
      <button id="sel-delete" type="button" class="danger" disabled>Delete selected</button>
    </div>
    <table class="grid" id="tokens"><thead><tr><th class="check"><input type="checkbox" id="check-all" aria-label="select all"></th><th>token</th><th>state</th><th class="num">exit</th><th>host</th><th>finished</th><th>input</th></tr></thead><tbody></tbody></table>
    <div class="pager"><button id="page-first" type="button" disabled>« first</button><span id="page-info"></span><button id="page-next" type="button" disabled>next »</button></div>
  </section>
</main>

<div id="drawer" class="drawer" hidden>
  <div class="drawer-head"><h2 id="detail-title"></h2><button type="button" id="detail-close" aria-label="close">✕</button></div>
  <div id="detail" class="drawer-body"></div>
</div>

<dialog id="confirm">
  <form method="dialog">
    <p id="confirm-text"></p>
    <p class="hint" id="confirm-hint"></p>
    <div class="dialog-buttons"><button value="cancel" type="submit">Cancel</button><button value="ok" type="submit" id="confirm-ok" class="warn">Confirm</button></div>
  </form>
</dialog>
<div id="toast" class="toast" hidden></div>
</body>
</html>
`;
}

export function loginHtml(database: string, problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>picas · log in</title><link rel="stylesheet" href="/style.css"></head>
<body class="login-page">
<form method="post" action="/login" class="login">
  <h1>picas <span class="db">${esc(database)}</span></h1>
  <p class="hint">Log in with your CouchDB user name and password: the CouchDB server checks them, and the dashboard acts with your rights.</p>
  ${problem ? `<p class="problem" role="alert">${esc(problem)}</p>` : ''}
  <label>user name <input name="username" autocomplete="username" required autofocus></label>
  <label>password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
</body></html>
`;
}
