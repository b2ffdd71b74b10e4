// Runs in enet-loadtest's parent process, only for --plot: RTT percentiles over time and the RTT
// histogram, as one SVG rendered headlessly by vega-lite + vega (no browser, no canvas). Both are
// imported here, lazily: nothing on the server's import path loads them.
import { writeFileSync } from 'node:fs';
import type { Summary } from './loadtest-lib.js';

/** The vega-lite spec of the plot (exported for tests and for anyone who wants the JSON). */
export function plotSpec(summary: Summary): Record<string, unknown> {
  const c = summary.config;
  const series = summary.timeline.flatMap((p) =>
    (['p50', 'p90', 'p99'] as const).map((name) => ({ t: p.t, percentile: name, ms: Math.max(p[name], 0.001), warmup: p.warmup })),
  );
  const windowStart = summary.timeline.find((p) => !p.warmup)?.t;
  const title = `${summary.clients} clients × ${c.rate} msg/s, ${c.size} B ${c.reliable ? 'reliable' : 'unreliable'} — delivery ${(summary.delivery * 100).toFixed(3)} %, RTT p50 ${summary.rtt.p50.toFixed(2)} / p99 ${summary.rtt.p99.toFixed(2)} ms`;
  const overTime: Record<string, unknown> = {
    title: 'RTT percentiles per second (ms; shaded: warmup)',
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
    ],
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
    vconcat: [overTime, histogram],
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
