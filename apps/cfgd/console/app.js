// cfgd console: a plain script over cfgd's own HTTP API (no framework, no
// build step; docs/CONSOLE.md says why). Every value shown comes from the
// config, which anyone with a write token (or a config file) controls, so
// the page builds its DOM with textContent only: never innerHTML.
'use strict';

(function () {
  const TOKEN_KEY = 'cfgd.console.token';
  const METRICS_EVERY_MS = 3000;
  const POLL_EVERY_MS = 2000;
  const SAMPLES = 100; // five minutes of metrics at one sample per 3 s
  const DIFF_SCAN = 50; // versions searched for a flag's last change

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    canWrite: null, // null: unknown (not signed in, or writes disabled)
    version: 0,
    view: 'flags',
    stale: new Set(), // views to refresh when they are shown
    diffs: new Map(), // version v -> diff of (v-1, v); versions never change
    ws: null,
    wsBackoff: 1000,
    pollTimer: null,
    samples: [], // {t, committed, lag}
    refreshing: false,
    again: false,
  };

  // ---- DOM helpers: text only ------------------------------------------

  const $ = (id) => document.getElementById(id);

  /// An element with attributes and children; strings become text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k.startsWith('data-')) node.setAttribute(k, String(v));
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  /// A JSON value as compact text for a table cell.
  function show(value) {
    if (value === undefined) return '';
    if (typeof value === 'string') return value;
    return JSON.stringify(value);
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  // ---- notices ------------------------------------------------------------

  /// Shows a message and every detail, each as its own line.
  function notice(kind, title, details) {
    const box = $('notice');
    box.className = 'notice ' + kind;
    $('notice-title').textContent = title;
    fill($('notice-details'), (details || []).map((d) => el('li', { text: show(d) })));
    box.hidden = false;
  }

  function clearNotice() {
    $('notice').hidden = true;
  }

  /// The message for a refused request, from its status and its JSON body
  /// (`{error, details}` for the API, `{errorCode, errorDetails}` for OFREP).
  function refusal(what, res) {
    const body = res.data && typeof res.data === 'object' ? res.data : {};
    const details = [];
    if (Array.isArray(body.details)) details.push(...body.details);
    if (body.errorDetails) details.push(body.errorDetails);
    if (res.status === 0) {
      return notice('error', what + ': cfgd does not answer', details);
    }
    if (res.status === 401) {
      return notice('error', what + ': sign in with a token (401 unauthorized)',
        details.length ? details : ['cfgd asks for a bearer token']);
    }
    if (res.status === 403) {
      return notice('error', what + ': this token may not do that (403 '
        + (body.error || 'forbidden') + '); sign in with a token that has the '
        + 'write scope', details);
    }
    const error = body.error || body.errorCode || res.text || 'error';
    notice('error', what + ': ' + res.status + ' ' + error, details);
  }

  // ---- the API ------------------------------------------------------------

  /// One request to cfgd: {status, ok, data (parsed JSON) or text, headers}.
  /// Never throws: a network failure is status 0.
  async function api(method, path, options) {
    const opts = options || {};
    const headers = Object.assign({}, opts.headers || {});
    if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { status: 0, ok: false, data: null, text: String(e) };
    }
    const text = await res.text();
    let data = null;
    if ((res.headers.get('Content-Type') || '').includes('json')) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    return { status: res.status, ok: res.ok, data, text, headers: res.headers };
  }

  // ---- sign in --------------------------------------------------------------

  /// What the current token may do, from GET /whoami (its name and scopes;
  /// no token: the anonymous identity and whether reads need one).
  async function probe() {
    const me = await api('GET', '/whoami');
    if (me.status === 401) {
      state.canWrite = null;
      signOut(false);
      refusal('Sign in', me);
      return false;
    }
    if (!me.ok || !me.data) {
      state.canWrite = null;
      refusal('Sign in', me);
      return false;
    }
    const scopes = Array.isArray(me.data.scopes) ? me.data.scopes : [];
    if (!state.token) {
      state.canWrite = null;
      $('who').textContent = me.data.reads_need_token ? 'reads need a token: sign in'
        : 'not signed in: read-only view';
      return !me.data.reads_need_token;
    }
    state.canWrite = scopes.includes('write');
    const name = me.data.name ? show(me.data.name) + ', ' : '';
    $('who').textContent = 'signed in (' + name + (state.canWrite ? 'may write)' : 'read-only token)');
    return true;
  }

  function renderAuth() {
    const signedIn = !!state.token;
    $('signin').hidden = signedIn;
    $('signout').hidden = !signedIn;
    document.body.classList.toggle('signed-in', signedIn);
    document.body.classList.toggle('writer', state.canWrite === true);
  }

  async function signIn(token) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    clearNotice();
    renderAuth();
    if (await probe()) await refreshAll();
    renderAuth();
    connectLive(); // the WebSocket judges the token of its upgrade
  }

  function signOut(refresh) {
    state.token = null;
    state.canWrite = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('who').textContent = '';
    renderAuth();
    if (refresh !== false) {
      probe().then((ok) => { if (ok) refreshAll(); });
    }
  }

  // ---- asking for a reason ------------------------------------------------

  /// Asks for the reason of a change; resolves to it, or null if cancelled.
  /// It travels as the X-Change-Reason header, so it must be printable ASCII.
  function askReason(prompt) {
    return new Promise((resolve) => {
      const dialog = $('reason-dialog');
      const input = $('reason');
      $('reason-prompt').textContent = prompt;
      $('reason-error').textContent = '';
      input.value = '';
      const done = (value) => {
        $('reason-form').onsubmit = null;
        $('reason-cancel').onclick = null;
        dialog.oncancel = null;
        if (dialog.open) dialog.close();
        resolve(value);
      };
      dialog.oncancel = () => done(null); // Escape
      $('reason-form').onsubmit = (ev) => {
        ev.preventDefault();
        const text = input.value.trim();
        if (!/^[\x20-\x7e]{1,200}$/.test(text)) {
          $('reason-error').textContent =
            'a reason of 1 to 200 printable ASCII characters (it is sent as an HTTP header)';
          return;
        }
        done(text);
      };
      $('reason-cancel').onclick = () => done(null);
      dialog.showModal();
      input.focus();
    });
  }

  /// Sends a write with its reason; shows every reason of a refusal.
  async function write(what, method, path, body) {
    const reason = await askReason(what);
    if (reason === null) return null;
    const res = await api(method, path, { body, headers: { 'X-Change-Reason': reason } });
    if (!res.ok) {
      refusal(what, res);
      return null;
    }
    const version = res.data && res.data.version;
    notice('ok', what + ': version ' + version + ' committed', []);
    // The push of the new version may come before or after this answer; an
    // unchanged write (same version) still redraws the view.
    if (!seen(version)) await refreshAll();
    return res;
  }

  // ---- flags ----------------------------------------------------------------

  /// The diff of version v against v-1, cached (versions are immutable);
  /// null when v-1 is gone from the history.
  async function diffOf(v) {
    if (state.diffs.has(v)) return state.diffs.get(v);
    const res = await api('GET', '/diff?from=' + (v - 1) + '&to=' + v);
    const diff = res.ok ? res.data : null;
    if (res.ok || res.status === 404) state.diffs.set(v, diff);
    return diff;
  }

  /// For each flag, the newest history entry whose diff touches it.
  async function lastChanges(names, history) {
    const found = new Map();
    let scanned = 0;
    for (const entry of history) {
      if (found.size === names.length || scanned++ >= DIFF_SCAN) break;
      if (entry.version <= 1) {
        for (const n of names) if (!found.has(n)) found.set(n, entry);
        break;
      }
      const diff = await diffOf(entry.version);
      if (!diff || !diff.changes) continue;
      for (const path of Object.keys(diff.changes)) {
        for (const n of names) {
          const p = 'features.' + n;
          if (!found.has(n) && (path === p || path.startsWith(p + '.')
              || path.startsWith(p + '[') || path === 'features')) {
            found.set(n, entry);
          }
        }
      }
    }
    return found;
  }

  function ruleSummary(rule) {
    if (!rule || typeof rule !== 'object') return show(rule);
    const values = Array.isArray(rule.values) ? rule.values.map(show).join(', ') : show(rule.values);
    let outcome = '';
    if (rule.variant !== undefined) outcome = ' \u2192 ' + show(rule.variant);
    else if (rule.enabled !== undefined) outcome = ' \u2192 ' + (rule.enabled ? 'on' : 'off');
    return show(rule.attribute) + ' ' + show(rule.op) + ' [' + values + ']' + outcome;
  }

  function who(entry) {
    if (!entry) return '';
    // Sources and unnamed tokens leave the author empty: their origin says who.
    return entry.author ? show(entry.author) : show(entry.origin);
  }

  function when(ms) {
    if (typeof ms !== 'number') return '';
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  async function refreshFlags() {
    const [config, history] = await Promise.all([api('GET', '/config'), api('GET', '/history?limit=' + DIFF_SCAN)]);
    if (!config.ok) return refusal('Flags', config);
    const features = config.data && typeof config.data.features === 'object'
      && config.data.features !== null && !Array.isArray(config.data.features) ? config.data.features : {};
    const names = Object.keys(features).sort();
    const entries = history.ok && Array.isArray(history.data) ? history.data : [];
    const changes = await lastChanges(names, entries);
    fill($('flags').tBodies[0], names.map((name) => {
      const flag = features[name];
      const object = flag !== null && typeof flag === 'object' && !Array.isArray(flag);
      const on = object ? flag.enabled === true : flag === true;
      const rules = object && Array.isArray(flag.rules) ? flag.rules : [];
      const change = changes.get(name);
      let rollout = '';
      if (object && typeof flag.rollout === 'number') rollout = flag.rollout + '%';
      const ruleCell = el('td', { class: 'rules' });
      if (rules.length === 0) ruleCell.textContent = object && flag.variants ? 'variants: ' + Object.keys(flag.variants).join(', ') : '';
      for (const r of rules) ruleCell.append(el('div', { text: ruleSummary(r) }));
      return el('tr', { 'data-flag': name },
        el('td', { class: 'name', text: name }),
        el('td', { class: 'state ' + (on ? 'on' : 'off'), text: on ? 'on' : 'off' }),
        el('td', { class: 'rollout', text: rollout }),
        ruleCell,
        el('td', { class: 'changed', text: change ? 'v' + change.version + ' ' + when(change.timestamp_ms) : '' }),
        el('td', { class: 'by', text: who(change) + (change && change.reason ? ' \u2014 ' + show(change.reason) : '') }),
        el('td', {}, el('button', {
          type: 'button', class: 'toggle', text: on ? 'Turn off' : 'Turn on',
          onclick: () => write('Turn ' + (on ? 'off' : 'on') + ' flag ' + name, 'POST',
            '/features/' + encodeURIComponent(name), { enabled: !on }),
        })));
    }));
  }

  // ---- config -----------------------------------------------------------

  /// A path segment as cfgactors writes it: `.`, `[` and `\` escaped.
  function segment(key) {
    return key.replace(/[\\.[\]]/g, (c) => '\\' + c);
  }

  function isObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  /// Every leaf of `tree` (objects walked, arrays and scalars whole) as
  /// [path, steps, value].
  function leaves(tree, prefix, steps, out) {
    for (const key of Object.keys(tree).sort()) {
      const path = prefix ? prefix + '.' + segment(key) : segment(key);
      const v = tree[key];
      const s = steps.concat([key]);
      if (isObject(v) && Object.keys(v).length > 0) leaves(v, path, s, out);
      else out.push([path, s, v]);
    }
    return out;
  }

  /// What a layer's data says at `steps`: undefined when it says nothing,
  /// null for a tombstone (the layer removes the key).
  function at(data, steps) {
    let node = data;
    for (const key of steps) {
      if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
      node = node[key];
    }
    return node;
  }

  async function refreshConfig() {
    const [config, layers] = await Promise.all([api('GET', '/config'), api('GET', '/layers')]);
    if (!config.ok) return refusal('Config', config);
    const stack = layers.ok && layers.data && Array.isArray(layers.data.layers) ? layers.data.layers : [];
    $('layers').textContent = stack.length
      ? 'Layers, lowest precedence first: ' + stack.map((l) => l.name + ' (' + l.kind + ')').join(' < ')
      : 'GET /layers: ' + (layers.status || 'no answer') + ' (which layer set a value is not known)';
    const rows = leaves(isObject(config.data) ? config.data : {}, '', [], []).map(([path, steps, value]) => {
      const setting = stack.filter((l) => at(l.data, steps) !== undefined);
      const top = setting.length ? setting[setting.length - 1] : null;
      const shadowed = setting.slice(0, -1);
      const valueCell = el('td', { class: 'value', text: show(value) });
      const edit = el('button', { type: 'button', class: 'edit', text: 'Edit' });
      edit.addEventListener('click', () => startEdit(valueCell, edit, path, value));
      return el('tr', { 'data-path': path },
        el('td', { class: 'path', text: path }),
        valueCell,
        el('td', { class: 'layer', text: top ? top.name : '' }),
        el('td', { class: 'shadows', text: shadowed.map((l) => l.name + ' = ' + show(at(l.data, steps))).join('; ') }),
        el('td', {}, edit));
    });
    fill($('config').tBodies[0], rows);
  }

  /// Turns a value cell into an editor. The text is taken as JSON when it
  /// parses (`2000`, `true`, `{"a":1}`), else as a string.
  function startEdit(cell, button, path, value) {
    const input = el('input', { class: 'edit-value', 'aria-label': 'new value of ' + path });
    // A masked secret starts empty: saving `***` would overwrite the secret.
    input.value = value === '***' ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    const save = el('button', { type: 'button', class: 'save', text: 'Save' });
    const cancel = el('button', { type: 'button', class: 'cancel', text: 'Cancel' });
    cell.replaceChildren(input, save, cancel);
    button.hidden = true;
    cancel.addEventListener('click', () => { cell.textContent = show(value); button.hidden = false; });
    save.addEventListener('click', async () => {
      let next;
      try { next = JSON.parse(input.value); } catch (e) { next = input.value; }
      const res = await write('Set ' + path, 'PUT', '/config/' + encodeURIComponent(path), next);
      if (!res) return; // the editor stays, with the refusal shown above
    });
    input.focus();
  }

  // ---- history --------------------------------------------------------------

  async function refreshHistory() {
    const res = await api('GET', '/history');
    if (!res.ok) return refusal('History', res);
    const entries = Array.isArray(res.data) ? res.data : [];
    fill($('history').tBodies[0], entries.map((e) => el('tr', { 'data-version': e.version },
      el('td', { class: 'version', text: e.version }),
      el('td', { text: when(e.timestamp_ms) }),
      el('td', { class: 'origin', text: show(e.origin) }),
      el('td', { class: 'author', text: e.author === undefined ? '' : show(e.author) }),
      el('td', { class: 'reason', text: e.reason === undefined ? '' : show(e.reason) }),
      el('td', {},
        el('button', { type: 'button', class: 'diff', text: 'Diff', disabled: e.version <= 1, onclick: () => openDiff(e.version) }),
        el('button', {
          type: 'button', class: 'rollback', text: 'Roll back to this',
          onclick: () => write('Roll back to version ' + e.version, 'POST', '/rollback/' + e.version),
        })))));
  }

  async function openDiff(v) {
    const res = await api('GET', '/diff?from=' + (v - 1) + '&to=' + v);
    if (!res.ok) return refusal('Diff ' + (v - 1) + ' \u2192 ' + v, res);
    $('diff-title').textContent = 'Version ' + (v - 1) + ' \u2192 ' + v;
    const changes = res.data && isObject(res.data.changes) ? res.data.changes : {};
    fill($('diff-table').tBodies[0], Object.keys(changes).sort().map((path) => {
      const c = changes[path] || {};
      let before = '';
      let after = '';
      if ('old' in c || 'new' in c) { before = show(c.old); after = show(c.new); }
      if ('added' in c) after = show(c.added);
      if ('removed' in c) before = show(c.removed);
      return el('tr', { 'data-path': path },
        el('td', { class: 'path', text: path }),
        el('td', { class: 'before', text: before }),
        el('td', { class: 'after', text: after }));
    }));
    $('diff').hidden = false;
  }

  // ---- nodes and charts ---------------------------------------------------

  async function refreshNodes() {
    const res = await api('GET', '/nodes');
    if (!res.ok) return refusal('Nodes', res);
    const nodes = res.data && Array.isArray(res.data.nodes) ? res.data.nodes : [];
    fill($('nodes').tBodies[0], nodes.map((n) => el('tr', { 'data-node': show(n.name) },
      el('td', { text: show(n.name) }),
      el('td', { text: show(n.role) }),
      el('td', { text: show(n.version) }),
      el('td', { text: show(n.lag) }),
      el('td', { text: show(n.state) }),
      el('td', { class: n.stale ? 'stale' : '', text: n.stale ? 'stale' : 'no' }))));
  }

  /// The samples of a Prometheus text page: name -> [{labels, value}].
  function parseMetrics(text) {
    const out = new Map();
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      if (!out.has(m[1])) out.set(m[1], []);
      out.get(m[1]).push({ labels: m[2] || '', value: Number(m[3]) });
    }
    return out;
  }

  /// One sample every few seconds: the committed updates (or, on a replica,
  /// the version) and the worst replica's lag.
  async function sampleMetrics() {
    const res = await api('GET', '/metrics');
    if (!res.ok) return;
    const m = parseMetrics(res.text);
    const updates = (m.get('cfg_updates_total') || []).find((s) => s.labels.includes('status="committed"'));
    const version = (m.get('cfg_version') || [])[0];
    const lags = (m.get('cfg_replica_lag_versions') || []).map((s) => s.value);
    state.samples.push({
      t: Date.now(),
      committed: updates ? updates.value : (version ? version.value : 0),
      lag: lags.length ? Math.max(...lags) : 0,
    });
    if (state.samples.length > SAMPLES + 1) state.samples.shift();
    drawCharts();
    // Lag changes without a new version (a replica catching up).
    if (state.view === 'nodes') refreshNodes();
  }

  function drawCharts() {
    const s = state.samples;
    const rates = [];
    for (let i = 1; i < s.length; i++) {
      const dt = (s[i].t - s[i - 1].t) / 1000;
      rates.push(dt > 0 ? Math.max(0, s[i].committed - s[i - 1].committed) / dt : 0);
    }
    spark($('chart-commits'), rates);
    spark($('chart-lag'), s.map((x) => x.lag));
    $('chart-commits-now').textContent = rates.length ? 'now ' + rates[rates.length - 1].toFixed(2) + '/s, max ' + Math.max(...rates).toFixed(2) + '/s' : 'collecting\u2026';
    $('chart-lag-now').textContent = s.length ? 'now ' + s[s.length - 1].lag + ', max ' + Math.max(...s.map((x) => x.lag)) : 'collecting\u2026';
  }

  /// A sparkline of `values` in a 300x60 SVG.
  function spark(svg, values) {
    const NS = 'http://www.w3.org/2000/svg';
    const max = Math.max(1, ...values);
    const step = 300 / Math.max(1, SAMPLES - 1);
    const points = values.map((v, i) => (i * step).toFixed(1) + ',' + (58 - (v / max) * 56).toFixed(1)).join(' ');
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('points', points);
    line.setAttribute('class', 'line');
    svg.replaceChildren(line);
  }

  // ---- playground ---------------------------------------------------------

  function addContextRow(key, value) {
    const remove = el('button', { type: 'button', class: 'remove', text: 'Remove' });
    const row = el('tr', {},
      el('td', {}, el('input', { class: 'ctx-key', 'aria-label': 'attribute', value: key || '' })),
      el('td', {}, el('input', { class: 'ctx-value', 'aria-label': 'value', value: value || '' })),
      el('td', {}, remove));
    remove.addEventListener('click', () => row.remove());
    $('context-rows').tBodies[0].append(row);
  }

  /// A context value: a JSON number or boolean when it reads as one, else
  /// the text.
  function contextValue(text) {
    if (/^(true|false|-?\d+(\.\d+)?)$/.test(text)) return JSON.parse(text);
    return text;
  }

  async function evaluate() {
    const context = { targetingKey: $('targeting-key').value };
    for (const row of $('context-rows').tBodies[0].rows) {
      const key = row.querySelector('.ctx-key').value.trim();
      if (key) context[key] = contextValue(row.querySelector('.ctx-value').value);
    }
    const res = await api('POST', '/ofrep/v1/evaluate/flags', { body: { context } });
    const status = $('playground-status');
    if (res.status === 404 || res.status === 405) {
      status.textContent = 'evaluation endpoint not available (this cfgd has no OFREP API)';
      fill($('evaluation').tBodies[0], []);
      return;
    }
    if (!res.ok) {
      status.textContent = 'evaluation refused: ' + res.status;
      return refusal('Evaluate', res);
    }
    const flags = res.data && Array.isArray(res.data.flags) ? res.data.flags : [];
    status.textContent = flags.length + ' flag(s) evaluated for ' + context.targetingKey;
    fill($('evaluation').tBodies[0], flags.map((f) => el('tr', { 'data-flag': show(f.key) },
      el('td', { text: show(f.key) }),
      el('td', { class: 'value', text: f.errorCode ? '' : show(f.value) }),
      el('td', { class: 'variant', text: show(f.variant) }),
      el('td', { class: 'reason', text: f.errorCode ? f.errorCode + (f.errorDetails ? ': ' + show(f.errorDetails) : '') : show(f.reason) }))));
  }

  // ---- views and live updates -----------------------------------------------

  const views = {
    flags: refreshFlags,
    config: refreshConfig,
    history: refreshHistory,
    nodes: refreshNodes,
    playground: async () => {},
  };

  /// Refreshes the view shown; the others refresh when they are shown.
  /// Refreshes never overlap: one asked for meanwhile runs after.
  async function refreshAll() {
    for (const name of Object.keys(views)) if (name !== state.view) state.stale.add(name);
    if (state.refreshing) { state.again = true; return; }
    state.refreshing = true;
    try {
      do {
        state.again = false;
        await views[state.view]();
      } while (state.again);
    } finally {
      state.refreshing = false;
      document.body.dataset.version = String(state.version);
    }
  }

  function showView(name) {
    state.view = name;
    for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
    for (const v of Object.keys(views)) $('view-' + v).hidden = v !== name;
    // Always fetched anew: a view hidden for a while may be far behind.
    state.stale.delete(name);
    views[name]();
  }

  function setLive(mode) {
    const live = $('live');
    live.textContent = mode;
    live.className = 'live ' + (mode === 'live' ? 'on' : mode === 'polling' ? 'poll' : 'off');
  }

  /// A version other than the one shown refreshes the page's data; returns
  /// whether it did.
  function seen(version) {
    if (typeof version !== 'number' || version === state.version) return false;
    state.version = version;
    $('version').textContent = 'version ' + version;
    refreshAll();
    return true;
  }

  /// Live updates over /ws. A browser cannot put a token on a WebSocket, so
  /// where reads need one the upgrade is refused: the page then asks the
  /// open GET /healthz for the version every few seconds instead.
  function connectLive() {
    if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + '/ws');
    } catch (e) {
      startPolling();
      return;
    }
    state.ws = ws;
    ws.onopen = () => {
      opened = true;
      state.wsBackoff = 1000;
      stopPolling();
      setLive('live');
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && msg.action === 'update_config') seen(msg.version);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      startPolling();
      // Refused at once (a token needed): polling it is, retried rarely.
      const delay = opened ? state.wsBackoff : 30000;
      state.wsBackoff = Math.min(state.wsBackoff * 2, 10000);
      setTimeout(() => { if (!state.ws) connectLive(); }, delay);
    };
  }

  function startPolling() {
    setLive('polling');
    if (state.pollTimer) return;
    const poll = async () => {
      const res = await api('GET', '/healthz');
      if (res.ok && res.data) seen(res.data.version);
      else setLive('offline');
    };
    poll();
    state.pollTimer = setInterval(poll, POLL_EVERY_MS);
  }

  function stopPolling() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  // ---- start ----------------------------------------------------------------

  function start() {
    $('signin').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
    });
    $('signout').addEventListener('click', () => signOut(true));
    $('notice-close').addEventListener('click', clearNotice);
    for (const b of document.querySelectorAll('#tabs button')) {
      b.addEventListener('click', () => showView(b.dataset.view));
    }
    $('add-row').addEventListener('click', () => addContextRow('', ''));
    $('playground-form').addEventListener('submit', (ev) => { ev.preventDefault(); evaluate(); });
    addContextRow('country', 'de');
    renderAuth();
    probe().then((ok) => {
      renderAuth();
      if (ok) refreshAll();
    });
    connectLive();
    sampleMetrics();
    setInterval(sampleMetrics, METRICS_EVERY_MS);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
