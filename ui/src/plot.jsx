import { useEffect, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import { api } from './api.js';
import { num } from './fmt.js';

// uPlot is loaded with the first plot, not with the page: the list, the
// first page an on-call engineer sees, paints without it.
let uplot = null;
function loadUPlot() {
  uplot ||= import('uplot').then((m) => m.default);
  return uplot;
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

// EvidencePlot draws a metric finding's series around its onset: the
// values, the expected band (low..high) with the expected value, and the
// onset as a vertical line.
export function EvidencePlot({ obs }) {
  const [data, setData] = useState(null);
  const [err, setErr] = useState(null);
  const box = useRef(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const redraw = () => setTick((n) => n + 1);
    const mq = matchMedia('(prefers-color-scheme: dark)');
    addEventListener('seer-theme', redraw);
    mq.addEventListener('change', redraw);
    return () => { removeEventListener('seer-theme', redraw); mq.removeEventListener('change', redraw); };
  }, []);
  const [UPlot, setUPlot] = useState(null);
  useEffect(() => {
    api('/api/v1/observations/' + obs.id + '/series').then(setData, setErr);
    loadUPlot().then((u) => setUPlot(() => u), setErr);
  }, [obs.id]);
  useEffect(() => {
    if (!data || !UPlot || !box.current || data.series.length === 0) return undefined;
    const s = data.series[0];
    const xs = s.points.map((p) => p[0]);
    const ys = s.points.map((p) => p[1]);
    const band = data.low !== 0 || data.high !== 0;
    const lo = xs.map(() => (band ? data.low : null));
    const hi = xs.map(() => (band ? data.high : null));
    const ex = xs.map(() => data.expected);
    const onset = new Date(data.onset).getTime() / 1000;
    const accent = css('--accent'), bandc = css('--band'), bad = css('--bad'), fg = css('--muted');
    const axis = { stroke: fg, grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') } };
    const opts = {
      width: Math.max(280, box.current.clientWidth - 4),
      height: 180,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, values: (u, v) => v.map(num) }],
      series: [
        {},
        { label: s.name, stroke: accent, width: 1.5, value: (u, v) => num(v) },
        { label: 'low', stroke: bandc, width: 1, value: (u, v) => num(v) },
        { label: 'high', stroke: bandc, width: 1, value: (u, v) => num(v) },
        { label: 'expected', stroke: bandc, width: 1, dash: [4, 4], value: (u, v) => num(v) },
      ],
      bands: band ? [{ series: [3, 2], fill: bandc + '33' }] : [],
      hooks: {
        draw: [(u) => {
          const x = u.valToPos(onset, 'x', true);
          if (!isFinite(x)) return;
          const c = u.ctx;
          c.save();
          c.strokeStyle = bad;
          c.setLineDash([6, 4]);
          c.lineWidth = 1.5 * devicePixelRatio;
          c.beginPath();
          c.moveTo(x, u.bbox.top);
          c.lineTo(x, u.bbox.top + u.bbox.height);
          c.stroke();
          c.restore();
        }],
      },
    };
    const u = new UPlot(opts, [xs, ys, lo, hi, ex], box.current);
    return () => u.destroy();
  }, [data, UPlot, tick]);
  if (err) return <p class="muted small">No plot: {err.message}</p>;
  if (!data) return <p class="muted small">loading the series…</p>;
  if (data.series.length === 0) {
    return <p class="muted small">The recent values of {obs.entity} {obs.name} are no longer in seer's window.</p>;
  }
  return (
    <figure class="plot" data-obs={obs.id}>
      <figcaption>
        <b>{obs.entity}</b> {obs.name}: {num(obs.actual)} against the expected {num(obs.expected)}
        {(data.low !== 0 || data.high !== 0) && <> (band {num(data.low)}–{num(data.high)})</>}; the dashed red line is the onset.
      </figcaption>
      <div ref={box} class="uplot-box" role="img" aria-label={'plot of ' + obs.entity + ' ' + obs.name + ' with its expected band'} />
    </figure>
  );
}
