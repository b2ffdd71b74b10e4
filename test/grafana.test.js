// deploy/grafana/enet-server.json and deploy/prometheus/alerts.yml name only metrics that exist: every
// metric name in their PromQL is in a real scrape of `enet-server --metrics-port` (the CLI as a child
// process), but for the short allowlist below, each with its reason.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
const DASHBOARD = JSON.parse(readFileSync(new URL('../deploy/grafana/enet-server.json', import.meta.url), 'utf8'));
const ALERTS = readFileSync(new URL('../deploy/prometheus/alerts.yml', import.meta.url), 'utf8');

/** Names a query may use that a plain server's scrape does not have, and why. */
const ALLOWED_ABSENT = {
  up: "Prometheus's own series per target, not the server's",
  enet_cluster_up: 'registered only with --cluster-redis (a fleet)',
};

const NOT_METRICS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'Inf', 'NaN']);

/** The metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
function metricNames(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(') || NOT_METRICS.has(m[0])) continue;
    names.add(m[0]);
  }
  return names;
}

/** Every PromQL expression of the dashboard (panels, nested rows, annotations) and the template variable's metric. */
function dashboardQueries(dashboard) {
  const queries = [];
  const walk = (panels) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  for (const annotation of dashboard.annotations?.list ?? []) if (annotation.expr) queries.push({ where: `annotation "${annotation.name}"`, expr: annotation.expr });
  for (const variable of dashboard.templating?.list ?? []) {
    const m = /^label_values\(([^,]+),/.exec(variable.query ?? '');
    if (m) queries.push({ where: `variable "${variable.name}"`, expr: m[1] });
  }
  return queries;
}

async function scrape(t) {
  const child = spawn(process.execPath, [CLI, '--bind', '127.0.0.1', '--port', '0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('enet-server did not print its metrics line')), 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /(http:\/\/\S+\/metrics)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`enet-server exited (${code})`)));
  });
  const text = await (await fetch(url)).text();
  const names = new Set();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]);
      if (type[2] === 'histogram' || type[2] === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${suffix}`);
    } else if (/^[a-zA-Z_:]/.test(line)) {
      names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)[0]);
    }
  }
  return names;
}

test('the metric-name extraction reads PromQL', (t) => {
  t.deepEqual([...metricNames('histogram_quantile(0.99, sum by (instance, le) (rate(enet_peer_rtt_seconds_bucket{instance=~"$instance"}[5m]))) > 0.25')], ['enet_peer_rtt_seconds_bucket']);
  t.deepEqual([...metricNames('enet_actor_inbound_depth_bytes{a="b"} + enet_actor_outbound_depth_bytes or enet_queued_bytes > 64 * 1024')].sort(), ['enet_actor_inbound_depth_bytes', 'enet_actor_outbound_depth_bytes', 'enet_queued_bytes']);
});

test('every metric the Grafana dashboard and the alert rules name is in a real scrape of enet-server --metrics-port', async (t) => {
  const scraped = await scrape(t);
  t.true(scraped.has('enet_peers'), 'the scrape has the server metrics');
  const queries = dashboardQueries(DASHBOARD);
  for (const m of ALERTS.matchAll(/^\s*expr:\s*(.+)$/gm)) queries.push({ where: 'alerts.yml', expr: m[1] });
  t.true(queries.length > 30, `${queries.length} queries`);
  const missing = [];
  const allowedSeen = new Set();
  for (const { where, expr } of queries) {
    const names = metricNames(expr);
    if (names.size === 0) missing.push(`${where}: no metric name found in ${expr}`);
    for (const name of names) {
      if (scraped.has(name)) continue;
      if (Object.hasOwn(ALLOWED_ABSENT, name)) allowedSeen.add(name);
      else missing.push(`${where}: ${name}`);
    }
  }
  t.deepEqual(missing, [], missing.join('\n'));
  // The dashboard must show the per-peer histograms (and keep the allowlist honest).
  for (const name of ['enet_peer_rtt_seconds_bucket', 'enet_peer_packet_loss_ratio_bucket']) t.true(queries.some((q) => q.expr.includes(name)), name);
  for (const name of Object.keys(ALLOWED_ABSENT)) {
    if (scraped.has(name)) t.log(`${name} is in the scrape now: drop it from ALLOWED_ABSENT`);
    else if (!allowedSeen.has(name)) t.log(`${name} is allowed but no query uses it: drop it from ALLOWED_ABSENT`);
  }
});

test('the dashboard is importable: unique panel ids, a Prometheus data-source variable, every panel on the 24-column grid', (t) => {
  const ids = new Set();
  for (const panel of DASHBOARD.panels) {
    t.false(ids.has(panel.id), `id ${panel.id} twice`);
    ids.add(panel.id);
    t.true(panel.gridPos.x + panel.gridPos.w <= 24, panel.title);
  }
  t.truthy(DASHBOARD.templating.list.find((v) => v.type === 'datasource' && v.query === 'prometheus'));
  t.is(DASHBOARD.uid, 'enet-server');
});
