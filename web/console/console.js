/* cqrsd operator console (issue 14, point 2).
 * Polls the node's own /status, /metrics and /commits?limit=20 once a second
 * and shows them. Read-only: it sends GET requests and nothing else.
 * Every value from the node goes into the page through textContent or
 * setAttribute, never as HTML. No dependencies, no build step. */
'use strict';
(function () {
  const POLL_MS = 1000, TIMEOUT_MS = 5000, MAX_ACTORS = 100, MAX_KEYS = 20;
  const TOKEN_KEY = 'cqrsd.token';
  const DASH = '–';

  // ---- Prometheus text format -------------------------------------------

  // A sample value or an `le` bound: decimals, exponents, +Inf, -Inf, NaN.
  function parseValue(s) {
    if (/^\+?inf$/i.test(s)) return Infinity;
    if (/^-inf$/i.test(s)) return -Infinity;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return NaN; // NaN too
    return Number(s);
  }

  const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y, LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;

  // One sample line `name{a="x",b="y"} value [timestamp]`, or null if malformed.
  function parseSample(line) {
    NAME.lastIndex = 0;
    const n = NAME.exec(line);
    if (!n) return null;
    const labels = Object.create(null);
    let i = n[0].length;
    const skip = () => { while (line[i] === ' ' || line[i] === '\t') i++; };
    skip();
    if (line[i] === '{') {
      i++;
      for (;;) {
        skip();
        if (line[i] === '}') { i++; break; }
        LABEL.lastIndex = i;
        const l = LABEL.exec(line);
        if (!l) return null;
        i += l[0].length;
        skip();
        if (line[i++] !== '=') return null;
        skip();
        if (line[i++] !== '"') return null;
        let v = '';
        for (;;) { // quoted value: \\ \" \n are the escapes
          if (i >= line.length) return null;
          const c = line[i++];
          if (c === '"') break;
          if (c !== '\\') { v += c; continue; }
          if (i >= line.length) return null;
          const e = line[i++];
          v += e === 'n' ? '\n' : e === '\\' || e === '"' ? e : '\\' + e;
        }
        labels[l[0]] = v;
        skip();
        if (line[i] === ',') i++;
        else if (line[i] !== '}') return null;
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    if (!rest[0]) return null;
    return { name: n[0], labels, value: parseValue(rest[0]) };
  }

  // Whole exposition -> Map(metric name -> [{name, labels, value}]).
  // Comments, blank and malformed lines are skipped.
  function parseMetrics(text) {
    const out = new Map();
    for (const raw of String(text).split('\n')) {
      const line = raw.trim();
      if (!line || line[0] === '#') continue;
      const s = parseSample(line);
      if (!s) continue;
      if (!out.has(s.name)) out.set(s.name, []);
      out.get(s.name).push(s);
    }
    return out;
  }

  // Sum of all series of a metric, NaN when the node does not export it.
  function total(m, name) {
    const list = m.get(name);
    return list ? list.reduce((a, s) => a + s.value, 0) : NaN;
  }

  // Per view: {hits, misses}, summed over any other label. An unlabelled
  // series (binaries before the `view` label) shows as the view "(all)".
  function viewCounters(m) {
    const views = new Map();
    for (const [name, field] of [['cqrsd_cache_hits_total', 'hits'], ['cqrsd_cache_misses_total', 'misses']]) {
      for (const s of m.get(name) || []) {
        const v = 'view' in s.labels ? s.labels.view : '(all)';
        if (!views.has(v)) views.set(v, { hits: 0, misses: 0 });
        views.get(v)[field] += s.value;
      }
    }
    return views;
  }

  // Routes that are not the API: probes, and what this page and /docs poll.
  // Request duration leaves them out, so that an idle node's p99 is not the
  // console measuring itself.
  const OPERATOR_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/status',
    '/commits', '/openapi.json', '/docs', '/console']);

  function isApiRoute(labels) {
    return !OPERATOR_ROUTES.has(labels.route);
  }

  // Cumulative buckets of a histogram summed over its other labels (routes,
  // methods) of the samples `keep` accepts: Map(le -> count).
  function buckets(m, name, keep = () => true) {
    const b = new Map();
    for (const s of m.get(name + '_bucket') || []) {
      if (!('le' in s.labels) || !keep(s.labels)) continue;
      const le = parseValue(s.labels.le);
      if (!Number.isNaN(le)) b.set(le, (b.get(le) || 0) + s.value);
    }
    return b;
  }

  // Bucket counts observed since `prev`, or null when the bucket layout
  // changed or a counter went back (the node restarted).
  function bucketDelta(cur, prev) {
    if (!prev || prev.size !== cur.size) return null;
    const d = new Map();
    for (const [le, v] of cur) {
      const p = prev.get(le);
      if (p === undefined || v < p) return null;
      d.set(le, v - p);
    }
    return d;
  }

  // The q-quantile as Prometheus' histogram_quantile computes it: find the
  // bucket holding rank q*count and interpolate linearly inside it (the first
  // bucket starts at 0; a rank in +Inf answers the highest finite bound).
  function quantile(q, bm) {
    const b = [...bm].sort((x, y) => x[0] - y[0]);
    if (b.length < 2 || b[b.length - 1][0] !== Infinity) return NaN;
    for (let i = 1; i < b.length; i++) b[i][1] = Math.max(b[i][1], b[i - 1][1]);
    const count = b[b.length - 1][1];
    if (!(count > 0)) return NaN;
    const rank = q * count;
    let i = 0;
    while (i < b.length - 1 && b[i][1] < rank) i++;
    if (i === b.length - 1) return b[b.length - 2][0];
    if (i === 0 && b[0][0] <= 0) return b[0][0];
    const lo = i ? b[i - 1][0] : 0, below = i ? b[i - 1][1] : 0;
    const inside = b[i][1] - below;
    return lo + (b[i][0] - lo) * (inside > 0 ? (rank - below) / inside : 1);
  }

  // Increase of a counter per second; a counter that went back restarted at 0.
  function rate(cur, prev, dt) {
    if (!Number.isFinite(cur) || !Number.isFinite(prev) || !(dt > 0)) return NaN;
    return (cur >= prev ? cur - prev : cur) / dt;
  }

  // ---- formatting ---------------------------------------------------------

  function fmtSeconds(s) {
    if (!Number.isFinite(s)) return DASH;
    if (s >= 1) return `${+s.toPrecision(3)} s`;
    const ms = s * 1000;
    return ms < 0.001 ? '< 0.001 ms' : `${+ms.toPrecision(3)} ms`;
  }
  function fmtRate(r) {
    if (!Number.isFinite(r)) return DASH;
    return r >= 100 ? String(Math.round(r)) : r.toFixed(r >= 10 ? 1 : 2);
  }
  const fmtPct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : DASH);
  const orDash = (x) => (x === undefined || x === null ? DASH : String(x));

  if (typeof document === 'undefined') { // Node.js: export the pure parts for tests
    if (typeof module === 'object') module.exports = { parseMetrics, parseValue, buckets, quantile, viewCounters, bucketDelta, fmtSeconds };
    return;
  }

  // ---- DOM helpers --------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  function setText(el, text) { // only touch the DOM on change (selection, screen readers)
    text = String(text);
    if (el.textContent !== text) el.textContent = text;
  }
  function setState(el, value) {
    setText(el, orDash(value));
    el.setAttribute('data-state', orDash(value));
  }
  // A <tr> whose first cell is a row header (when head) and the others <td class=...>.
  function makeRow(classes, head) {
    const tr = document.createElement('tr');
    classes.forEach((c, i) => {
      const td = document.createElement(head && i === 0 ? 'th' : 'td');
      if (head && i === 0) td.scope = 'row';
      td.className = c;
      tr.appendChild(td);
    });
    return tr;
  }

  // ---- token (sessionStorage: this tab only) ------------------------------

  let memToken = null; // fallback when storage is disabled
  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return memToken; }
  }
  function setToken(t) {
    memToken = t;
    try {
      if (t === null) sessionStorage.removeItem(TOKEN_KEY);
      else sessionStorage.setItem(TOKEN_KEY, t);
    } catch (e) { /* memToken keeps it */ }
  }

  // ---- fetching -----------------------------------------------------------

  // GET a node endpoint; rejects with an Error whose message names the path,
  // and .status/.token when the node answered an error status.
  async function get(path, json) {
    const token = getToken();
    const headers = { Accept: json ? 'application/json' : 'text/plain' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch(path, { headers, cache: 'no-store', signal: ctl.signal });
      } catch (e) {
        throw new Error(`${path}: ${e.name === 'AbortError' ? `no answer within ${TIMEOUT_MS / 1000} s` : 'the node is unreachable'}`);
      }
      const body = await res.text();
      if (!res.ok) {
        let msg = `HTTP ${res.status}`;
        try { msg += ': ' + JSON.parse(body).error.message; } catch (e) { /* not our JSON */ }
        throw Object.assign(new Error(`${path}: ${msg}`), { status: res.status, token });
      }
      if (!json) return body;
      try { return JSON.parse(body); } catch (e) { throw new Error(`${path}: the answer is not JSON`); }
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- rendering ----------------------------------------------------------

  function renderStatus(st) {
    setText($('node-name'), orDash(st.node));
    document.title = `${orDash(st.node)} · cqrsd console`;
    setText($('role'), orDash(st.role));
    $('role').setAttribute('data-role', orDash(st.role));
    const d = st.domain || {};
    setText($('domain-name'), orDash(d.name));
    setText($('domain-digest'), orDash(d.digest));
    setState($('link-state'), st.command_node);
    setState($('caches-state'), st.caches);
    setText($('seq'), orDash(st.seq));
    setText($('applied-seq'), orDash(st.applied_seq));
    const behind = st.seq - st.applied_seq;
    setText($('seq-behind'), Number.isFinite(behind) ? (behind > 0 ? `applied seq is ${behind} behind` : 'applied seq is up to date') : '');
    renderActors(st);
  }

  // At most MAX_ACTORS rows, whatever the node's pool size; rows are reused.
  function renderActors(st) {
    const list = Array.isArray(st.query_actors) ? st.query_actors : [];
    const shown = list.slice(0, MAX_ACTORS);
    const tbody = $('actors').tBodies[0];
    while (tbody.rows.length > shown.length) tbody.lastElementChild.remove();
    while (tbody.rows.length < shown.length) tbody.appendChild(makeRow(['index', 'cache-entries', 'applied-seq', 'behind']));
    shown.forEach((a, i) => {
      const c = tbody.rows[i].cells;
      setText(c[0], orDash(a.index));
      setText(c[1], orDash(a.cache_entries));
      setText(c[2], orDash(a.applied_seq));
      const behind = st.seq - a.applied_seq;
      setText(c[3], Number.isFinite(behind) ? String(behind) : DASH);
      c[3].classList.toggle('warn', behind > 0);
    });
    const count = Number.isFinite(st.query_actor_count) ? st.query_actor_count : list.length;
    setText($('actor-count'), String(count));
    setText($('cache-entries'), orDash(st.cache_entries));
    setText($('actors-note'), shown.length < count ? `showing ${shown.length} of ${count}` : '');
  }

  let commitsShown = '';
  function renderCommits(j) {
    const items = (j && Array.isArray(j.items) ? j.items : []).slice(-20).reverse(); // newest first
    const sig = JSON.stringify(items);
    if (sig === commitsShown) return;
    commitsShown = sig;
    const rows = items.map((c) => {
      const tr = makeRow(['seq', 'keys']);
      tr.setAttribute('data-seq', orDash(c.seq));
      tr.cells[0].textContent = orDash(c.seq);
      const keys = Array.isArray(c.keys) ? c.keys.map(String) : [];
      tr.cells[1].textContent = keys.slice(0, MAX_KEYS).join(', ') +
        (keys.length > MAX_KEYS ? ` … (+${keys.length - MAX_KEYS} more)` : '');
      return tr;
    });
    $('commits').tBodies[0].replaceChildren(...rows);
    $('commits-empty').hidden = rows.length > 0;
  }

  let prev = null; // the previous metrics sample: {t, commits, views, lag, req}
  const viewRows = new Map();

  function renderMetrics(text, t) {
    const m = parseMetrics(text);
    const cur = {
      t, commits: total(m, 'cqrsd_commits_total'), views: viewCounters(m),
      lag: buckets(m, 'cqrsd_invalidation_lag_seconds'),
      req: buckets(m, 'cqrsd_http_request_duration_seconds', isApiRoute),
    };
    const dt = prev ? (t - prev.t) / 1000 : NaN;
    setText($('write-rate'), fmtRate(rate(cur.commits, prev && prev.commits, dt)));
    setText($('commits-total'), Number.isFinite(cur.commits) ? String(cur.commits) : DASH);
    renderViews(cur.views, prev && prev.views, dt);
    renderHistogram('lag', cur.lag, prev && prev.lag, dt);
    renderHistogram('req', cur.req, prev && prev.req, dt);
    prev = cur;
  }

  function renderViews(views, before, dt) {
    const tbody = $('views').tBodies[0];
    for (const [name, tr] of viewRows) {
      if (!views.has(name)) { tr.remove(); viewRows.delete(name); }
    }
    [...views.keys()].sort().forEach((name, i) => {
      let tr = viewRows.get(name);
      if (!tr) {
        tr = makeRow(['view', 'read-rate', 'hit-ratio-recent', 'hit-ratio', 'hits', 'misses'], true);
        tr.setAttribute('data-view', name);
        tr.cells[0].textContent = name;
        viewRows.set(name, tr);
      }
      if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
      const c = views.get(name), p = before && before.get(name);
      const reads = c.hits + c.misses;
      let recentRate = NaN, recentRatio = NaN;
      if (p && dt > 0) {
        const reset = c.hits < p.hits || c.misses < p.misses;
        const dh = reset ? c.hits : c.hits - p.hits, dm = reset ? c.misses : c.misses - p.misses;
        recentRate = (dh + dm) / dt;
        if (dh + dm > 0) recentRatio = dh / (dh + dm);
      } else if (before && dt > 0) { // a view that appeared since the last poll
        recentRate = reads / dt;
        if (reads > 0) recentRatio = c.hits / reads;
      }
      const cells = tr.cells;
      setText(cells[1], fmtRate(recentRate));
      setText(cells[2], fmtPct(recentRatio));
      setText(cells[3], fmtPct(reads > 0 ? c.hits / reads : NaN));
      setText(cells[4], String(c.hits));
      setText(cells[5], String(c.misses));
    });
    $('views-empty').hidden = views.size > 0;
  }

  // p50/p99 over the last poll interval when it saw observations, else since start.
  function renderHistogram(id, cur, before, dt) {
    const d = bucketDelta(cur, before);
    const recent = !!d && d.get(Infinity) > 0;
    const b = recent ? d : cur;
    const n = b.get(Infinity) || 0;
    setText($(id + '-p50'), fmtSeconds(quantile(0.5, b)));
    setText($(id + '-p99'), fmtSeconds(quantile(0.99, b)));
    const caption = $(id + '-window');
    const obs = `${n} observation${n === 1 ? '' : 's'}`;
    setText(caption, recent ? `over the last ${dt.toFixed(1)} s (${obs})`
      : n > 0 ? `cumulative since start (${obs}${before ? '; none in the last poll' : ''})`
        : 'no observations yet');
    caption.setAttribute('data-window', recent ? 'interval' : 'cumulative');
  }

  // ---- polling loop: a setTimeout chain, never two polls at once ------------

  let timer = 0, inFlight = false, again = false;
  let refused = false; // the last token tried was answered 401

  async function poll() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    clearTimeout(timer);
    try {
      const [st, me, co] = await Promise.allSettled([
        get('/status', true), get('/metrics', false), get('/commits?limit=20', true)]);
      const t = performance.now();
      const errors = [];
      let unauthorized = false;
      for (const [r, render] of [[st, renderStatus], [me, (x) => renderMetrics(x, t)], [co, renderCommits]]) {
        if (r.status === 'fulfilled') {
          try { render(r.value); } catch (e) { errors.push(`cannot show an answer: ${e.message}`); }
        } else if (r.reason.status === 401) {
          unauthorized = true;
          // A token the node refused is forgotten (unless the user has typed a new one since).
          if (r.reason.token && r.reason.token === getToken()) { setToken(null); refused = true; }
        } else {
          errors.push(r.reason.message);
        }
      }
      if (unauthorized) errors.unshift(refused ? 'The node refused the read token (401): enter it again.' : 'This node needs its read token (401): enter it below.');
      else refused = false;
      setText($('token-hint'), refused ? 'The node refused that token.' : '');
      showTokenForm(unauthorized);
      setText($('error'), errors.join(' · '));
      if (!errors.length) {
        const now = new Date();
        setText($('updated'), now.toLocaleTimeString());
        $('updated').setAttribute('datetime', now.toISOString());
      }
    } finally {
      inFlight = false;
      timer = setTimeout(poll, again ? 0 : POLL_MS);
      again = false;
    }
  }

  function showTokenForm(show) {
    const form = $('token-form');
    if (show && form.hidden) { form.hidden = false; $('token-input').focus(); }
    if (!show) form.hidden = true;
  }

  function start() {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault(); // nothing is ever submitted; the token only goes into headers
      const t = $('token-input').value.trim();
      if (!/^[\x21-\x7e]+$/.test(t)) { // a header value must be printable ASCII
        setText($('token-hint'), 'A token is printable ASCII without spaces.');
        return;
      }
      refused = false;
      setText($('token-hint'), '');
      setToken(t);
      $('token-input').value = '';
      $('token-form').hidden = true;
      poll();
    });
    poll();
  }

  start();
})();
