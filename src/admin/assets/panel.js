// The operator panel's page (plain DOM, no framework; charts by uPlot). One EventSource to
// /api/events brings an update every second: the overview, the newest chart point, and the page of
// peers this tab asked for (sorted, filtered and paged by the server). Changing the page, the sort or
// the filter reopens the stream with the new query. Every value from the server is put in the page as
// text (textContent), never as HTML.
'use strict';

(() => {
  const $ = (selector) => document.querySelector(selector);
  const query = { sort: 'id', dir: 'asc', filter: '', offset: 0, limit: 100 };
  let source;
  let lastPeers = { total: 0, all: 0, offset: 0, limit: 100 };

  // ---- formatting ----------------------------------------------------------------------------
  const int = (n) => Math.round(n).toLocaleString('en-US');
  const fixed = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  function bytes(n) {
    if (!Number.isFinite(n)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
  }
  function duration(s) {
    s = Math.floor(s);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  }
  const percent = (ratio) => (ratio === null || ratio === undefined ? '–' : `${(ratio * 100).toFixed(1)}%`);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // ---- overview cards -----------------------------------------------------------------------
  const cards = new Map();
  function card(key, label) {
    let entry = cards.get(key);
    if (!entry) {
      const box = el('div', undefined, 'card');
      const value = el('div', '', 'value');
      box.append(el('div', label, 'label'), value);
      $('#overview').append(box);
      entry = value;
      cards.set(key, entry);
    }
    return entry;
  }
  function setCard(key, label, text) {
    const node = card(key, label);
    if (node.textContent !== text) node.textContent = text;
  }

  function renderOverview(o) {
    setCard('uptime', 'uptime', duration(o.uptimeS));
    setCard('peers', 'peers', int(o.peers));
    setCard('auth', 'authenticated', int(o.authenticated));
    setCard('pin', 'packets in / s', int(o.rates.packetsIn));
    setCard('pout', 'packets out / s', int(o.rates.packetsOut));
    setCard('bin', 'bytes in / s', bytes(o.rates.bytesIn));
    setCard('bout', 'bytes out / s', bytes(o.rates.bytesOut));
    setCard('cpu', 'CPU (main)', `${fixed(o.cpuPercent)}%`);
    setCard('rss', 'RSS', bytes(o.rssBytes));
    setCard('lag', 'event-loop lag p99', `${fixed(o.eventLoopLagMs.p99)} ms`);
    setCard('rtt', 'RTT p50 / p99', `${int(o.rttMs.p50)} / ${int(o.rttMs.p99)} ms`);
    setCard('shards', 'shards / game actors', `${o.shards} / ${o.gameActors}`);
    setCard('sessions', 'sessions held / dropped', `${int(o.sessions.held)} / ${int(o.sessions.dropped)}`);
    setCard('refused', 'refused connects', int(o.defences.refusedConnects));
    setCard('queued', 'queued to peers', bytes(o.queuedBytes));
    $('#status').textContent = o.active ? `UDP :${o.port} · live` : 'server stopped';
    $('#status').className = `status ${o.active ? 'ok' : 'bad'}`;

    const body = $('#actors tbody');
    const rows = o.actors.map((a) => [`${a.kind} ${a.id}`, int(a.peers), bytes(a.ringDepth), percent(a.busy), int(a.handledPerS), String(a.restarts)]);
    fillTable(body, rows, (a, i) => `${o.actors[i].kind}${o.actors[i].id}`);

    const fleet = o.fleet;
    $('#fleet-section').hidden = !fleet;
    if (fleet) {
      const now = Date.now();
      const servers = fleet.servers.map((s) => [s.serverId === fleet.serverId ? `${s.serverId} (this)` : s.serverId, `${s.address}:${s.port}`, `${int(s.peers)} / ${int(s.maxPeers)}`, percent(s.load), duration((now - s.startedAt) / 1000)]);
      fillTable($('#fleet tbody'), servers, (_, i) => fleet.servers[i].serverId);
    }
  }

  /** Replaces a small table's rows, reusing cells whose text did not change. */
  function fillTable(body, rows, keyOf) {
    while (body.rows.length > rows.length) body.deleteRow(-1);
    rows.forEach((cells, i) => {
      const tr = body.rows[i] ?? body.insertRow();
      tr.dataset.key = keyOf(cells, i);
      cells.forEach((text, j) => {
        const td = tr.cells[j] ?? tr.insertCell();
        if (td.textContent !== text) td.textContent = text;
      });
    });
  }

  // ---- peers ---------------------------------------------------------------------------------
  const peerRows = new Map();
  const STATE_CLASS = { authenticated: 'ok', prelogin: 'warn', connecting: 'warn', disconnecting: 'bad' };

  function peerCells(p) {
    return [
      String(p.id),
      p.address,
      p.dropped ? `${p.state} (dropped)` : p.state,
      String(p.shard),
      p.actor < 0 ? 'main' : String(p.actor),
      String(p.rttMs),
      percent(p.loss),
      bytes(p.bytesOut),
      bytes(p.queuedBytes),
      duration(p.connectedS),
    ];
  }

  function newPeerRow(p) {
    const tr = document.createElement('tr');
    tr.dataset.peerId = String(p.id);
    for (let i = 0; i < 10; i++) tr.insertCell();
    tr.cells[0].className = 'link';
    const actions = tr.insertCell();
    const button = el('button', 'kick', 'danger small');
    button.type = 'button';
    button.dataset.action = 'kick';
    actions.append(button);
    return tr;
  }

  function renderPeers(page) {
    lastPeers = page;
    const body = $('#peers tbody');
    const seen = new Set();
    let previous = null;
    for (const p of page.rows) {
      seen.add(p.id);
      let tr = peerRows.get(p.id);
      if (!tr) {
        tr = newPeerRow(p);
        peerRows.set(p.id, tr);
      }
      peerCells(p).forEach((text, i) => {
        const td = tr.cells[i];
        if (td.textContent !== text) td.textContent = text;
      });
      tr.cells[2].className = STATE_CLASS[p.state] ?? '';
      // Keep the server's order, moving only rows that are out of place.
      const want = previous ? previous.nextSibling : body.firstChild;
      if (want !== tr) body.insertBefore(tr, want);
      previous = tr;
    }
    for (const [id, tr] of peerRows) {
      if (!seen.has(id)) {
        tr.remove();
        peerRows.delete(id);
      }
    }
    const first = page.total === 0 ? 0 : page.offset + 1;
    const last = Math.min(page.total, page.offset + page.rows.length);
    $('#peer-count').textContent = page.filter ? `${int(page.total)} matching of ${int(page.all)}` : `${int(page.all)}`;
    $('#page').textContent = `${int(first)}–${int(last)} of ${int(page.total)}`;
    $('#prev').disabled = page.offset === 0;
    $('#next').disabled = page.offset + page.limit >= page.total;
    // A page past the end (peers left): go back to the last one.
    if (page.rows.length === 0 && page.offset > 0 && page.total > 0) {
      query.offset = Math.max(0, Math.floor((page.total - 1) / query.limit) * query.limit);
      reconnect();
    }
  }

  function markSort() {
    for (const th of document.querySelectorAll('#peers th[data-sort]')) {
      th.classList.toggle('sorted', th.dataset.sort === query.sort);
      th.dataset.dir = th.dataset.sort === query.sort ? query.dir : '';
    }
  }

  // ---- charts --------------------------------------------------------------------------------
  const WINDOW_S = 600;
  const history = {};
  const charts = [];
  const chartDefs = [
    { id: '#chart-packets', series: [['packetsIn', 'in', '#4ea1ff'], ['packetsOut', 'out', '#f2a03d']], value: (u, v) => (v === null ? '–' : int(v)) },
    // Drawn in KiB/s: uPlot's ticks are decimal steps, round in KiB.
    { id: '#chart-bytes', scale: 1 / 1024, series: [['bytesIn', 'in', '#4ea1ff'], ['bytesOut', 'out', '#f2a03d']], value: (u, v) => (v === null ? '–' : bytes(v * 1024)) },
    { id: '#chart-peers', series: [['peers', 'peers', '#7ee787'], ['authenticated', 'authenticated', '#d2a8ff']], value: (u, v) => (v === null ? '–' : int(v)) },
    { id: '#chart-rtt', series: [['rttP50', 'p50', '#7ee787'], ['rttP99', 'p99', '#ff7b72']], value: (u, v) => (v === null ? '–' : `${int(v)} ms`) },
  ];

  function makeCharts() {
    if (typeof uPlot !== 'function') {
      for (const def of chartDefs) $(def.id).textContent = 'charts unavailable (uPlot not installed)';
      return;
    }
    for (const def of chartDefs) {
      const host = $(def.id);
      const opts = {
        width: Math.max(240, host.clientWidth),
        height: 160,
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        axes: [
          { stroke: '#9aa4b2', grid: { stroke: '#262c35' }, ticks: { stroke: '#262c35' } },
          { stroke: '#9aa4b2', grid: { stroke: '#262c35' }, ticks: { stroke: '#262c35' }, size: 60 },
        ],
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [{}, ...def.series.map(([, label, stroke]) => ({ label, stroke, width: 1.5, value: def.value }))],
      };
      charts.push({ def, plot: new uPlot(opts, chartData(def), host), host });
    }
    window.addEventListener('resize', () => {
      for (const chart of charts) chart.plot.setSize({ width: Math.max(240, chart.host.clientWidth), height: 160 });
    });
  }

  function chartData(def) {
    const scale = def.scale ?? 1;
    return [history.t ?? [], ...def.series.map(([key]) => (scale === 1 ? history[key] ?? [] : (history[key] ?? []).map((v) => v * scale)))];
  }

  function addPoint(point) {
    if (!point || !history.t) return;
    if (history.t.length > 0 && history.t[history.t.length - 1] >= point.t) return;
    for (const key of Object.keys(history)) history[key].push(point[key]);
    while (history.t.length > 0 && history.t[0] <= point.t - WINDOW_S) for (const key of Object.keys(history)) history[key].shift();
  }

  function drawCharts() {
    for (const chart of charts) chart.plot.setData(chartData(chart.def));
  }

  // ---- the stream ----------------------------------------------------------------------------
  function streamUrl(withHistory) {
    const params = new URLSearchParams({ sort: query.sort, dir: query.dir, offset: String(query.offset), limit: String(query.limit) });
    if (query.filter) params.set('filter', query.filter);
    if (!withHistory) params.set('history', '0');
    return `/api/events?${params}`;
  }

  function connect(withHistory) {
    source = new EventSource(streamUrl(withHistory));
    source.addEventListener('update', (event) => {
      const data = JSON.parse(event.data);
      if (data.history) {
        for (const [key, values] of Object.entries(data.history)) history[key] = values;
      }
      addPoint(data.point);
      renderOverview(data.overview);
      renderPeers(data.peers);
      drawCharts();
    });
    source.addEventListener('error', async () => {
      $('#status').textContent = 'reconnecting…';
      $('#status').className = 'status bad';
      if (source.readyState === EventSource.CLOSED) {
        // Refused (logged out, or the session ended): back to the login form.
        const probe = await fetch('/api/state?limit=1', { credentials: 'same-origin' }).catch(() => null);
        if (probe && probe.status === 401) location.assign('/login');
        else setTimeout(() => reconnect(true), 2000);
      }
    });
  }

  function reconnect(withHistory = false) {
    source?.close();
    connect(withHistory);
  }

  async function post(url, body) {
    const response = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let data = {};
    try {
      data = await response.json();
    } catch {
      // an empty body
    }
    return { ok: response.ok, status: response.status, data };
  }

  // ---- controls ------------------------------------------------------------------------------
  let filterTimer;
  $('#filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      query.filter = $('#filter').value.trim();
      query.offset = 0;
      reconnect();
    }, 250);
  });
  $('#limit').addEventListener('change', () => {
    query.limit = Number($('#limit').value);
    query.offset = 0;
    reconnect();
  });
  $('#prev').addEventListener('click', () => {
    query.offset = Math.max(0, query.offset - query.limit);
    reconnect();
  });
  $('#next').addEventListener('click', () => {
    if (query.offset + query.limit < lastPeers.total) query.offset += query.limit;
    reconnect();
  });
  $('#peers thead').addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (!th) return;
    if (query.sort === th.dataset.sort) query.dir = query.dir === 'asc' ? 'desc' : 'asc';
    else {
      query.sort = th.dataset.sort;
      query.dir = ['rtt', 'loss', 'queued', 'out', 'connected'].includes(query.sort) ? 'desc' : 'asc';
    }
    query.offset = 0;
    markSort();
    reconnect();
  });

  // Kick: the row's button opens the in-page form; Enter in its reason sends it.
  const dialog = $('#kick-dialog');
  const kickForm = $('#kick-form');
  let kickId = null;
  $('#peers tbody').addEventListener('click', async (event) => {
    const button = event.target.closest('[data-action="kick"]');
    if (button) {
      kickId = Number(button.closest('tr').dataset.peerId);
      $('#kick-id').textContent = String(kickId);
      $('#kick-result').textContent = '';
      kickForm.reset();
      dialog.showModal();
      kickForm.elements.reason.focus();
      return;
    }
    const cell = event.target.closest('td.link');
    if (cell) showDetails(Number(cell.parentElement.dataset.peerId));
  });
  $('#kick-cancel').addEventListener('click', () => dialog.close());
  kickForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (kickId === null) return;
    const { ok, data } = await post(`/api/peers/${kickId}/kick`, { reason: kickForm.elements.reason.value });
    if (ok) {
      dialog.close();
      kickId = null;
    } else {
      $('#kick-result').textContent = data.error ?? 'kick failed';
    }
  });

  $('#broadcast').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = event.target.elements.message;
    const { ok, data } = await post('/api/broadcast', { message: input.value });
    $('#broadcast-result').textContent = ok ? `sent to ${int(data.peers)} peers` : `not sent: ${data.error ?? `error ${data.err}`}`;
    if (ok) input.value = '';
  });

  async function showDetails(id) {
    const response = await fetch(`/api/peers/${id}`, { credentials: 'same-origin' });
    const data = await response.json();
    $('#details-id').textContent = String(id);
    $('#details-body').textContent = JSON.stringify(data, null, 2);
    $('#details').hidden = false;
  }
  $('#details-close').addEventListener('click', () => {
    $('#details').hidden = true;
  });

  markSort();
  makeCharts();
  connect(true);
})();
