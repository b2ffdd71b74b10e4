// Runs in enet-loadtest's parent process, only for --plot: RTT percentiles over time, clients
// connected and throughput over time (both with the link's blackouts and re-mappings marked), and
// the RTT histogram, as one SVG rendered headlessly by vega-lite + vega (no browser, no canvas).
// Both are imported here, lazily: nothing on the server's import path loads them.
import { writeFileSync } from 'node:fs';
import type { Summary } from './loadtest-lib.js';

/** The vega-lite spec of the plot (exported for tests and for anyone who wants the JSON). */
export function plotSpec(summary: Summary): Record<string, unknown> {
  const c = summary.config;
  const series = summary.timeline.flatMap((p) =>
    (['p50', 'p90', 'p99'] as const).map((name) => ({ t: p.t, percentile: name, ms: Math.max(p[name], 0.001), warmup: p.warmup })),
  );
  const windowStart = summary.timeline.find((p) => !p.warmup)?.t;
  const linkNote = summary.link ? ` — link ${summary.link.text}` : '';
  const rtt = summary.rtt.count === 0 ? 'no echo measured' : `RTT p50 ${summary.rtt.p50.toFixed(2)} / p99 ${summary.rtt.p99.toFixed(2)} ms`;
  const title = `${summary.clients} clients × ${c.rate} msg/s, ${c.size} B ${c.reliable ? 'reliable' : 'unreliable'} — delivery ${summary.sent > 0 ? `${(summary.delivery * 100).toFixed(3)} %` : '–'}, ${rtt}${linkNote}`;
  // The link's events on the time axis: blackouts as red bands, re-mappings as dashed lines.
  const blackouts = (summary.link?.blackouts ?? []).map((b) => ({ from: b.t, to: b.t + b.seconds, label: `blackout ${b.seconds} s` }));
  const rebinds = (summary.link?.rebinds ?? []).map((r) => ({ t: r.t, label: `rebind ${r.fraction === 1 ? 'all' : `${+(r.fraction * 100).toFixed(1)}%`}` }));
  const marks: Record<string, unknown>[] = [];
  if (blackouts.length > 0) {
    marks.push({
      data: { values: blackouts },
      mark: { type: 'rect', color: '#e45756', opacity: 0.25 },
      encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } },
    }, {
      data: { values: blackouts },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 2, color: '#b22222', fontSize: 10 },
      encoding: { x: { field: 'from', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  if (rebinds.length > 0) {
    marks.push({
      data: { values: rebinds },
      mark: { type: 'rule', color: '#f58518', strokeDash: [4, 3], strokeWidth: 2 },
      encoding: { x: { field: 't', type: 'quantitative' } },
    }, {
      data: { values: rebinds },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 2, dy: 14, color: '#c0560b', fontSize: 10 },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  const overTime: Record<string, unknown> = {
    title: `RTT percentiles per second (ms; shaded: warmup${blackouts.length ? '; red: blackouts' : ''}${rebinds.length ? '; dashed: rebinds' : ''})`,
    width: 640,
    height: 240,
    layer: [
      ...(windowStart !== undefined && windowStart > 0
        ? [{
            data: { values: [{ from: 0, to: windowStart }] },
            mark: { type: 'rect', color: '#eeeeee' },
            encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } },
          }]
        : []),
      {
        data: { values: series },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'seconds since start' },
          y: { field: 'ms', type: 'quantitative', title: 'RTT (ms)', scale: { type: 'log' } },
          color: { field: 'percentile', type: 'nominal', sort: ['p50', 'p90', 'p99'] },
        },
      },
      ...marks,
    ],
  };
  // Load over time: clients connected (left axis) and echoes per second (right axis).
  const load: Record<string, unknown> = {
    title: `Load per second: clients connected, throughput (echoes/s)${blackouts.length ? '; red: blackouts' : ''}${rebinds.length ? '; dashed: rebinds' : ''}`,
    width: 640,
    height: 200,
    data: { values: (summary.load ?? []).flatMap((p) => [{ t: p.t, series: 'connected', value: p.connected }, { t: p.t, series: 'echoes/s', value: p.echoes }]) },
    encoding: { x: { field: 't', type: 'quantitative', title: 'seconds since start' } },
    layer: [
      {
        transform: [{ filter: "datum.series === 'connected'" }],
        mark: { type: 'line', color: '#54a24b', interpolate: 'step-after' },
        encoding: { y: { field: 'value', type: 'quantitative', title: 'clients connected', axis: { titleColor: '#54a24b' } } },
      },
      {
        transform: [{ filter: "datum.series === 'echoes/s'" }],
        mark: { type: 'line', color: '#e45756', point: true },
        encoding: { y: { field: 'value', type: 'quantitative', title: 'echoes/s', axis: { titleColor: '#e45756', orient: 'right' } } },
      },
      // The same link events: a blackout or a re-mapping shows in connections and echoes too.
      ...marks,
    ],
    resolve: { scale: { y: 'independent' } },
  };
  const histogram: Record<string, unknown> = {
    title: 'RTT histogram of the measured window (log buckets)',
    width: 640,
    height: 200,
    data: { values: summary.histogram.map(([ms, count]) => ({ ms, upper: ms * 2 ** 0.25, count })) },
    mark: { type: 'rect', color: '#4c78a8' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'RTT (ms)', scale: { type: 'log' } },
      x2: { field: 'upper' },
      y: { field: 'count', type: 'quantitative', title: 'echoes' },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'enet-loadtest', subtitle: title },
    vconcat: [overTime, load, histogram],
    config: { font: 'sans-serif' },
  };
}

export async function renderPlot(summary: Summary): Promise<string> {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(plotSpec(summary) as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writePlot(file: string, summary: Summary): Promise<void> {
  writeFileSync(file, await renderPlot(summary));
}
