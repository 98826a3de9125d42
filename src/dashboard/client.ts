/**
 * The dashboard page's script, served as /app.js: plain browser JavaScript kept as a string so the package
 * needs no build step for it. It builds every piece of the page from data with textContent (never innerHTML).
 */
export const CLIENT_JS = String.raw`'use strict';
// picas dashboard page. Everything from tokens, logs and pilots goes into the page as text nodes
// (textContent), never as HTML: a token id, input or stderr holding markup shows as that markup.
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var $ = function (id) { return document.getElementById(id); };
  var SVGNS = 'http://www.w3.org/2000/svg';

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'class') e.className = attrs[k];
      else if (k === 'style') e.style.cssText = attrs[k];
      else if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function fmt(n) { return Number(n).toLocaleString('en-US'); }
  function dur(s) {
    if (s === undefined || s === null || !isFinite(s)) return '–';
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + String(m % 60).padStart(2, '0') + 'm';
    return Math.floor(h / 24) + 'd ' + String(h % 24).padStart(2, '0') + 'h';
  }
  function clock(epoch) {
    if (!epoch) return '–';
    var d = new Date(epoch * 1000);
    var today = new Date();
    var t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    return d.toDateString() === today.toDateString() ? t : d.toLocaleDateString() + ' ' + t;
  }
  function lastLines(text, n) { return text.split('\n').filter(function (l) { return l.trim() !== ''; }).slice(-n).join('\n'); }
  function toast(text, bad) {
    var t = $('toast');
    t.textContent = text;
    t.className = bad ? 'toast bad' : 'toast';
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 6000);
  }
  /** JSON of a request, rejected with the server's message when the answer is not 2xx. */
  function getJson(url, init) {
    return fetch(url, Object.assign({ credentials: 'same-origin' }, init || {})).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : 'HTTP ' + r.status);
        return body;
      });
    });
  }
  function tokenLink(id) {
    return el('a', { class: 'tok', href: '#', 'data-id': id, onclick: function (ev) { ev.preventDefault(); openToken(id); } }, id);
  }

  // ---- live status -------------------------------------------------------------------------------------
  var status = null;
  function render(s) {
    status = s;
    var finished = s.done + s.error;
    var pct = s.total ? (100 * finished / s.total) : 0;
    $('pct').textContent = s.total ? pct.toFixed(1) : '–';
    var bar = clear($('stackbar'));
    [['done', s.done], ['error', s.error], ['locked', s.locked]].forEach(function (p) {
      if (s.total && p[1]) bar.appendChild(el('div', { class: 's-' + p[0], style: 'width:' + (100 * p[1] / s.total) + '%', title: p[0] + ' ' + fmt(p[1]) }));
    });
    var legend = clear($('legend'));
    [['done', s.done], ['error', s.error], ['locked', s.locked], ['todo', s.todo]].forEach(function (p) {
      legend.appendChild(el('span', { 'data-state': p[0] }, el('i', { class: 's-' + p[0] }), p[0] + ' ', el('b', { class: 'count-' + p[0] }, fmt(p[1]))));
    });
    legend.appendChild(el('span', { class: 'muted' }, 'of ' + fmt(s.total)));
    if (s.rate) {
      $('rate').textContent = s.rate.perMinute < 10 ? s.rate.perMinute.toFixed(1) : fmt(Math.round(s.rate.perMinute));
      $('rate-sub').textContent = fmt(s.rate.finished) + ' finished over the last ' + dur(s.rate.windowSeconds);
    } else { $('rate').textContent = '–'; $('rate-sub').textContent = 'needs the picas-status views (a database admin opens the dashboard once)'; }
    var left = s.todo + s.locked;
    if (left === 0 && s.total) { $('eta').textContent = 'finished'; $('eta-sub').textContent = ''; }
    else if (s.etaSeconds === undefined || s.etaSeconds === null) { $('eta').textContent = '–'; $('eta-sub').textContent = left ? 'nothing finished lately' : ''; }
    else { $('eta').textContent = dur(s.etaSeconds); $('eta-sub').textContent = 'about ' + clock(s.time + s.etaSeconds) + ', ' + fmt(left) + ' left'; }
    var draining = s.pilots.filter(function (p) { return p.state === 'draining'; }).length;
    $('npilots').textContent = fmt(s.pilots.length);
    $('pilots-sub').textContent = (draining ? draining + ' draining · ' : '') + fmt(s.pilotsEnded) + ' ended';
    $('expired').textContent = fmt(s.expired.count) + (s.expired.more ? '+' : '');
    $('expired-sub').textContent = s.expired.count ? 'locked by pilots that stopped renewing' : 'none';
    $('act-reset-expired').textContent = 'Reset expired leases (' + fmt(s.expired.count) + (s.expired.more ? '+' : '') + ')';
    $('act-reset-expired').disabled = s.expired.count === 0;
    $('act-retry-errors').textContent = 'Retry all errors (' + fmt(s.error) + ')';
    $('act-retry-errors').disabled = s.error === 0;
    $('act-drain').textContent = s.drainRequested ? 'Undo drain' : 'Drain pilots';
    var banner = $('banner');
    banner.hidden = !s.drainRequested;
    banner.textContent = s.drainRequested ? 'Drain requested: each pilot finishes its current tokens and stops at its next lease renewal; no pilot claims new tokens.' : '';
    var note = $('index-note');
    note.hidden = !(s.index.catchingUp || !s.index.consistent);
    note.textContent = s.index.catchingUp ? 'The index is catching up (about ' + fmt(s.index.indexLag) + ' changes not indexed yet): counts are from the index as it is.'
      : (!s.index.consistent ? 'Counts were read while many tokens changed; they may not add up exactly until the next refresh.' : '');
    renderPilots(s);
    renderErrors(s);
    renderChart(s.throughput);
    document.title = (s.total ? pct.toFixed(0) + '% · ' : '') + 'picas · ' + s.database;
    scheduleTokens();
  }

  function renderPilots(s) {
    var body = clear($('pilots').tBodies[0]);
    $('pilots-count').textContent = s.pilots.length ? '(' + fmt(s.pilots.length) + ' active)' : '';
    if (!s.pilots.length) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '7' }, 'no pilot is running')));
    s.pilots.slice(0, 300).forEach(function (p) {
      var running = el('td');
      if (!p.current.length) running.appendChild(el('span', { class: 'muted' }, 'idle'));
      p.current.slice(0, 3).forEach(function (c, i) {
        if (i) running.appendChild(document.createTextNode(', '));
        running.appendChild(tokenLink(c.id));
        // As of the pilot's last heartbeat (that is when it said what it runs).
        if (c.since) running.appendChild(el('span', { class: 'muted' }, ' ' + dur((p.lastBeat || s.time) - c.since)));
      });
      if (p.current.length > 3) running.appendChild(el('span', { class: 'muted' }, ' +' + (p.current.length - 3) + ' more'));
      var beat = p.lastBeat ? dur(s.time - p.lastBeat) + ' ago' : 'lease ends in ' + dur(p.aliveUntil - s.time);
      body.appendChild(el('tr', { 'data-pilot': p.id },
        el('td', { class: 'mono' }, p.id), el('td', null, p.host), el('td', { class: 'mono' }, p.job || '–'),
        el('td', { class: 'num' }, p.done === undefined || p.done === null ? '–' : fmt(p.done), p.failed ? el('span', { class: 'muted' }, ' (' + fmt(p.failed) + ' failed)') : null), running,
        el('td', null, beat), el('td', null, el('span', { class: 'badge ' + p.state }, p.state))));
    });
    if (s.pilots.length > 300) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '7' }, '… and ' + fmt(s.pilots.length - 300) + ' more')));
  }

  function renderErrors(s) {
    var body = clear($('errors').tBodies[0]);
    $('errors-count').textContent = s.error ? '(' + fmt(s.error) + ' in all)' : '';
    if (!s.errors) { body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '5' }, 'needs the picas-status views'))); return; }
    if (!s.errors.length) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '5' }, 'no errors')));
    s.errors.forEach(function (e) {
      body.appendChild(el('tr', { 'data-id': e.id },
        el('td', { class: 'id' }, tokenLink(e.id)), el('td', { class: 'num' }, String(e.exitCode)),
        el('td', null, clock(e.at)), el('td', null, e.host || '–'), el('td', null, el('pre', { class: 'tail', title: e.tail || '' }, lastLines(e.tail || '', 2)))));
    });
  }

  function renderChart(tp) {
    var points = tp ? tp.points : [];
    var b = tp ? tp.bucketSeconds : 60;
    $('chart-title').textContent = 'Finished per ' + (b === 60 ? 'minute' : b + ' s') + ', last ' + dur(b * 60);
    var box = clear($('chart'));
    var W = 600, H = 150, L = 34, B = 18, T = 6;
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'tokens finished per minute' });
    var max = 1;
    points.forEach(function (p) { max = Math.max(max, p.done + p.error); });
    var nice = Math.pow(10, Math.floor(Math.log10(max)));
    var top = Math.ceil(max / nice) * nice;
    var n = Math.max(points.length, 1), bw = (W - L) / n;
    [0, 0.5, 1].forEach(function (f) {
      var y = T + (H - B - T) * (1 - f);
      s.appendChild(svg('line', { x1: L, x2: W, y1: y, y2: y, class: 'gridline' }));
      s.appendChild(svg('text', { x: L - 4, y: y + 3, 'text-anchor': 'end', class: 'axis', text: fmt(Math.round(top * f)) }));
    });
    points.forEach(function (p, i) {
      var x = L + i * bw + 0.5, h1 = (H - B - T) * p.done / top, h2 = (H - B - T) * p.error / top;
      if (p.done) s.appendChild(svg('rect', { x: x, width: Math.max(1, bw - 1), y: H - B - h1, height: h1, fill: '#2e9d57' }));
      if (p.error) s.appendChild(svg('rect', { x: x, width: Math.max(1, bw - 1), y: H - B - h1 - h2, height: h2, fill: '#d64545' }));
      if (i % 12 === 0) s.appendChild(svg('text', { x: x, y: H - 4, class: 'axis', text: new Date(p.t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }));
    });
    if (!points.length) s.appendChild(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis', text: 'nothing finished in the last hour' }));
    box.appendChild(s);
  }

  function connect() {
    var es = new EventSource('/api/events');
    es.addEventListener('status', function (ev) {
      $('live').className = 'live';
      $('live').textContent = 'live';
      render(JSON.parse(ev.data));
    });
    es.addEventListener('problem', function (ev) {
      $('live').className = 'live off';
      $('live').textContent = 'server problem';
      toast(JSON.parse(ev.data).message, true);
    });
    es.onerror = function () { $('live').className = 'live off'; $('live').textContent = 'reconnecting…'; };
  }

  // ---- token browser -------------------------------------------------------------------------------------
  var browse = { state: '', prefix: '', starts: [], after: undefined, next: undefined, selected: {} };
  var tokensTimer = null, tokensAt = 0;
  function scheduleTokens() {
    // Status updates come at most once a second; the token page is re-read at most every 5 s.
    if (tokensTimer) return;
    var wait = Math.max(0, tokensAt + 5000 - Date.now());
    tokensTimer = setTimeout(function () { tokensTimer = null; loadTokens(); }, wait);
  }
  function loadTokens() {
    tokensAt = Date.now();
    var q = new URLSearchParams({ limit: '50' });
    if (browse.state) q.set('state', browse.state);
    if (browse.prefix) q.set('prefix', browse.prefix);
    if (browse.after !== undefined) q.set('after', browse.after);
    return getJson('/api/tokens?' + q.toString()).then(function (page) {
      browse.next = page.next;
      var body = clear($('tokens').tBodies[0]);
      if (!page.tokens.length) body.appendChild(el('tr', { class: 'empty' }, el('td', { colspan: '7' }, 'no tokens here')));
      page.tokens.forEach(function (t) {
        var box = el('input', { type: 'checkbox', 'aria-label': 'select' });
        box.checked = !!browse.selected[t.id];
        box.addEventListener('change', function () { if (box.checked) browse.selected[t.id] = true; else delete browse.selected[t.id]; selectionChanged(); });
        body.appendChild(el('tr', { 'data-id': t.id },
          el('td', { class: 'check' }, box), el('td', { class: 'id' }, tokenLink(t.id)),
          el('td', null, el('span', { class: 'badge ' + t.state }, t.state)),
          el('td', { class: 'num' }, t.exit_code === '' || t.exit_code === undefined ? '' : String(t.exit_code)),
          el('td', null, t.host || ''), el('td', null, t.done ? clock(t.done) : ''),
          el('td', { class: 'mono muted' }, t.input || '')));
      });
      $('page-next').disabled = !browse.next;
      $('page-first').disabled = browse.after === undefined;
      $('page-info').textContent = 'page ' + (browse.starts.length + 1);
    }, function (err) { toast(err.message, true); });
  }
  function selectionChanged() {
    var n = Object.keys(browse.selected).length;
    $('sel-reset').disabled = $('sel-delete').disabled = n === 0;
    $('sel-reset').textContent = 'Reset selected' + (n ? ' (' + n + ')' : '');
    $('sel-delete').textContent = 'Delete selected' + (n ? ' (' + n + ')' : '');
  }
  function restartBrowse() { browse.starts = []; browse.after = undefined; browse.selected = {}; selectionChanged(); loadTokens(); }
  Array.prototype.forEach.call(document.querySelectorAll('#state-tabs button'), function (b) {
    b.addEventListener('click', function () {
      Array.prototype.forEach.call(document.querySelectorAll('#state-tabs button'), function (x) { x.classList.toggle('on', x === b); });
      browse.state = b.getAttribute('data-state');
      restartBrowse();
    });
  });
  var prefixTimer = null;
  $('prefix').addEventListener('input', function () {
    clearTimeout(prefixTimer);
    prefixTimer = setTimeout(function () { browse.prefix = $('prefix').value; restartBrowse(); }, 300);
  });
  $('page-next').addEventListener('click', function () { browse.starts.push(browse.after); browse.after = browse.next; loadTokens(); });
  $('page-first').addEventListener('click', function () { browse.starts = []; browse.after = undefined; loadTokens(); });
  $('check-all').addEventListener('change', function () {
    var on = $('check-all').checked;
    Array.prototype.forEach.call(document.querySelectorAll('#tokens tbody tr[data-id]'), function (tr) {
      var id = tr.getAttribute('data-id');
      tr.querySelector('input').checked = on;
      if (on) browse.selected[id] = true; else delete browse.selected[id];
    });
    selectionChanged();
  });

  // ---- actions (each behind a confirmation) --------------------------------------------------------------
  function confirmThen(text, hint, run) {
    var d = $('confirm');
    $('confirm-text').textContent = text;
    $('confirm-hint').textContent = hint || '';
    d.returnValue = '';
    d.onclose = function () { if (d.returnValue === 'ok') run(); };
    d.showModal();
  }
  function act(name, body) {
    return getJson('/api/actions/' + name, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      toast(res.message);
      loadTokens();
      return res;
    }, function (err) { toast(err.message, true); });
  }
  $('act-reset-expired').addEventListener('click', function () {
    confirmThen('Put back to todo the ' + (status ? fmt(status.expired.count) : '') + ' locked token(s) whose lease expired?', 'Their pilots stopped renewing; other pilots then run them.', function () { act('reset-expired'); });
  });
  $('act-retry-errors').addEventListener('click', function () {
    confirmThen('Put all ' + (status ? fmt(status.error) : '') + ' failed token(s) back to todo for another try?', 'Their old logs and exit codes are dropped; scrub_count goes up by one.', function () { act('retry-errors'); });
  });
  $('act-drain').addEventListener('click', function () {
    if (status && status.drainRequested) confirmThen('Withdraw the drain request?', 'Pilots that have not stopped yet go on claiming tokens.', function () { act('drain', { undo: true }); });
    else confirmThen('Drain all pilots of this database?', 'It takes effect at each pilot\'s next lease renewal: pilots finish their current tokens, claim no more, and stop.', function () { act('drain'); });
  });
  $('sel-reset').addEventListener('click', function () {
    var ids = Object.keys(browse.selected);
    confirmThen('Put ' + ids.length + ' selected token(s) back to todo?', 'A token a pilot is running now is taken from it: that run\'s result will not count.', function () {
      act('reset', { ids: ids }).then(function () { browse.selected = {}; selectionChanged(); });
    });
  });
  $('sel-delete').addEventListener('click', function () {
    var ids = Object.keys(browse.selected);
    confirmThen('Delete ' + ids.length + ' selected token(s)?', 'This cannot be undone from here.', function () {
      act('delete', { ids: ids }).then(function () { browse.selected = {}; selectionChanged(); });
    });
  });

  // ---- token detail ----------------------------------------------------------------------------------------
  function openToken(id) {
    $('drawer').hidden = false;
    $('detail-title').textContent = id;
    var box = clear($('detail'));
    box.appendChild(el('p', { class: 'muted' }, 'loading…'));
    getJson('/api/token?' + new URLSearchParams({ id: id }).toString()).then(function (t) {
      clear(box);
      var d = t.doc, p = d.picas || {};
      var dl = el('dl');
      function row(k, v) { if (v !== undefined && v !== null && v !== '') dl.appendChild(el('dt', null, k)), dl.appendChild(el('dd', null, v)); }
      row('state', el('span', { class: 'badge ' + t.state }, t.state));
      if (t.state === 'done' || t.state === 'error') row('exit code', String(d.exit_code));
      row('input', el('span', { class: 'mono' }, typeof d.input === 'string' ? d.input : JSON.stringify(d.input)));
      if (Number(d.lock) > 0) row('claimed', clock(d.lock) + ' (' + dur(t.now - d.lock) + ' ago)' + (d.hostname ? ' by ' + d.hostname : ''));
      if (Number(d.done) > 0) row('finished', clock(d.done) + ' (' + dur(t.now - d.done) + ' ago)');
      if (d.run_time !== undefined) row('run time', dur(d.run_time));
      if (t.state === 'locked' && p.pilot) row('running in', p.pilot + ' on ' + (p.host || '?') + (p.job ? ', job ' + p.job : '') + ' for ' + dur(t.now - (p.claimed_at || d.lock)));
      row('attempts', String(p.attempts || t.history.length || (Number(d.lock) > 0 ? 1 : 0)) + (p.lost_runs ? ', ' + p.lost_runs + ' lost (pilot died or lost contact)' : '') + (d.scrub_count ? ', scrubbed ' + d.scrub_count + ' time(s)' : ''));
      box.appendChild(dl);
      if (t.history.length) {
        box.appendChild(el('h3', null, 'History'));
        var tb = el('tbody');
        t.history.forEach(function (h) {
          tb.appendChild(el('tr', null, el('td', null, el('span', { class: 'badge ' + (h.outcome === 'done' ? 'done' : h.outcome === 'error' ? 'error' : 'locked') }, h.outcome)),
            el('td', null, clock(h.start)), el('td', null, h.start ? dur(h.end - h.start) : ''), el('td', null, h.host || ''), el('td', { class: 'mono' }, h.job || ''),
            el('td', { class: 'mono' }, h.pilot || ''), el('td', { class: 'num' }, h.exit_code === undefined ? '' : String(h.exit_code))));
        });
        box.appendChild(el('table', { class: 'grid' }, el('thead', null, el('tr', null, el('th', null, 'outcome'), el('th', null, 'started'), el('th', null, 'ran'), el('th', null, 'host'), el('th', null, 'job'), el('th', null, 'pilot'), el('th', { class: 'num' }, 'exit'))), tb));
      }
      if (Array.isArray(d.error) && d.error.length) {
        box.appendChild(el('h3', null, 'Errors recorded'));
        d.error.slice(-5).forEach(function (e) { box.appendChild(el('pre', { class: 'tail' }, clock(e.time) + '  ' + e.message)); });
      }
      [['stdout', t.stdout, ''], ['stderr', t.stderr, ' err']].forEach(function (x) {
        box.appendChild(el('h3', null, x[0] + (x[1] && x[1].cut ? ' (last part; ' + fmt(x[1].cut) + ' bytes before it: picas logs ' + id + ')' : '')));
        box.appendChild(x[1] ? el('pre', { class: 'log' + x[2], 'data-log': x[0] }, x[1].text || '(empty)') : el('p', { class: 'muted' }, t.state === 'locked' ? 'running: logs are attached when it ends (picas logs ' + id + ' --follow shows them as they come)' : 'no log attached'));
      });
      box.appendChild(el('h3', null, 'Document'));
      box.appendChild(el('pre', { class: 'log' }, JSON.stringify(d, null, 2)));
      box.appendChild(el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: function () { confirmThen('Put ' + id + ' back to todo?', '', function () { act('reset', { ids: [id] }).then(function () { openToken(id); }); }); } }, 'Reset this token'),
        el('button', { type: 'button', class: 'danger', onclick: function () { confirmThen('Delete ' + id + '?', 'This cannot be undone from here.', function () { act('delete', { ids: [id] }).then(function () { $('drawer').hidden = true; }); }); } }, 'Delete')));
    }, function (err) { clear(box).appendChild(el('p', { class: 'problem' }, err.message)); });
  }
  $('detail-close').addEventListener('click', function () { $('drawer').hidden = true; });
  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') $('drawer').hidden = true; });

  getJson('/api/status').then(render, function (err) { toast(err.message, true); });
  loadTokens();
  connect();
})();
`;
