import { api } from './api.js';
import { usePoll } from './poll.js';
import { FINDINGS_WINDOW, HEALTH_WORDS, health, ns, num } from './fmt.js';

const NW = 130, NH = 34, GX = 250, GY = 64, PAD = 24;

// layout places services in columns by their depth in the call graph
// (longest path from a service nobody calls), ordered within a column by
// their callers' rows so that edges cross less. Cycles are cut where met.
export function layout(services, edges) {
  const out = new Map(services.map((s) => [s, []]));
  const inc = new Map(services.map((s) => [s, []]));
  for (const e of edges) {
    if (!out.has(e.caller)) { out.set(e.caller, []); inc.set(e.caller, []); }
    if (!out.has(e.callee)) { out.set(e.callee, []); inc.set(e.callee, []); }
    if (e.caller !== e.callee) { out.get(e.caller).push(e.callee); inc.get(e.callee).push(e.caller); }
  }
  const depth = new Map();
  const visiting = new Set();
  const d = (n) => {
    if (depth.has(n)) return depth.get(n);
    if (visiting.has(n)) return 0;
    visiting.add(n);
    let v = 0;
    for (const p of inc.get(n)) v = Math.max(v, d(p) + 1);
    visiting.delete(n);
    depth.set(n, v);
    return v;
  };
  const names = [...out.keys()].sort();
  names.forEach(d);
  const cols = [];
  for (const n of names) (cols[depth.get(n)] ||= []).push(n);
  const row = new Map();
  cols.forEach((col, ci) => {
    if (ci > 0) {
      const bary = (n) => {
        const ps = inc.get(n).filter((p) => row.has(p));
        return ps.length ? ps.reduce((a, p) => a + row.get(p), 0) / ps.length : 1e9;
      };
      col.sort((a, b) => bary(a) - bary(b) || a.localeCompare(b));
    }
    col.forEach((n, ri) => row.set(n, ri));
  });
  const tall = Math.max(1, ...cols.map((c) => c.length));
  const pos = new Map();
  cols.forEach((col, ci) => col.forEach((n, ri) => {
    const off = ((tall - col.length) * GY) / 2;
    pos.set(n, { x: PAD + ci * GX, y: PAD + off + ri * GY });
  }));
  return { pos, width: PAD * 2 + Math.max(0, cols.length - 1) * GX + NW, height: PAD * 2 + (tall - 1) * GY + NH };
}

export function ServiceMap() {
  const [topo, err] = usePoll(() => api('/api/v1/services'), [], 5000);
  const [incs] = usePoll(() => api('/api/v1/incidents?status=open&limit=500'), [], 5000);
  const [obs] = usePoll(() => api('/api/v1/observations?since=' + FINDINGS_WINDOW + 's&limit=2000'), [], 10000);
  if (err) return <section><h1>Service map</h1><p class="error" role="alert">{err.message}</p></section>;
  if (!topo) return <section><h1>Service map</h1><p class="muted">loading…</p></section>;
  const { state, incOf, findings } = health(incs && incs.incidents, obs && obs.observations);
  const { pos, width, height } = layout(topo.services, topo.edges);
  if (pos.size === 0) return <section><h1>Service map</h1><p class="muted">No services seen yet: traces or declared dependencies build the map.</p></section>;
  return (
    <section>
      <h1>Service map</h1>
      <p class="muted small legend">
        <span class="dot ok" /> healthy <span class="dot finding" /> findings in the last {FINDINGS_WINDOW / 60} min, in no incident{' '}
        <span class="dot warn" /> in an open incident <span class="dot bad" /> likely cause of an open incident.
        Edges are thicker with more calls; point at one for its rate, error ratio and latency (red: over 5 % errors).
        Select a service for its page: its incidents, findings, series, changes and dependencies.
      </p>
      <div class="map-wrap">
        <svg class="map" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="group" aria-label="service map">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
            </marker>
          </defs>
          {topo.edges.map((e) => {
            const a = pos.get(e.caller), b = pos.get(e.callee);
            if (!a || !b || e.caller === e.callee) return null;
            const x1 = a.x + NW, y1 = a.y + NH / 2, x2 = b.x, y2 = b.y + NH / 2;
            const mx = (x1 + x2) / 2;
            const errs = e.error_ratio > 0.05;
            return (
              <g class={'edge' + (errs ? ' errs' : '')} data-edge={e.caller + '>' + e.callee}>
                <title>{`${e.caller} → ${e.callee}: ${num(e.rate_per_s)}/s, errors ${num(100 * e.error_ratio)}%, p50 ${ns(e.latency_p50_ns)}, p99 ${ns(e.latency_p99_ns)}`}</title>
                <path d={`M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`} marker-end="url(#arrow)"
                  style={{ strokeWidth: Math.min(4, 1 + Math.log10(1 + e.rate_per_s * 10)) }} />
                <text x={mx} y={(y1 + y2) / 2 - 5} text-anchor="middle">{num(e.rate_per_s)}/s{errs ? ' ' + num(100 * e.error_ratio) + '%' : ''} {ns(e.latency_p99_ns)}</text>
              </g>
            );
          })}
          {[...pos.entries()].map(([n, p]) => {
            const h = state.get(n) || 'ok';
            const f = findings.get(n) || 0;
            const what = HEALTH_WORDS[h] + (f ? ', ' + f + (f === 1 ? ' finding' : ' findings') + ' recently' : '') +
              (incOf.has(n) ? ', incident ' + incOf.get(n) : '');
            return (
              <a href={'#/services/' + encodeURIComponent(n)} class={'node ' + h} data-service={n} data-findings={f} aria-label={n + ': ' + what}>
                <title>{n + ': ' + what}</title>
                <rect x={p.x} y={p.y} width={NW} height={NH} rx="6" />
                <text x={p.x + NW / 2} y={p.y + NH / 2 + 4} text-anchor="middle">{n.length > 17 ? n.slice(0, 16) + '…' : n}</text>
                {f > 0 && (
                  <g class="badge">
                    <circle cx={p.x + NW} cy={p.y} r="9" />
                    <text x={p.x + NW} y={p.y + 4} text-anchor="middle">{f > 99 ? '99+' : f}</text>
                  </g>
                )}
              </a>
            );
          })}
        </svg>
      </div>
      <p class="small"><a href="#/explore">Explore the findings and changes of every service</a></p>
    </section>
  );
}
