import { api } from './api.js';
import { usePoll } from './poll.js';
import { ns } from './fmt.js';

// depths orders the spans as a tree (each after its parent, siblings by
// start) and gives each its depth.
function tree(spans) {
  const kids = new Map();
  const ids = new Set(spans.map((s) => s.id));
  for (const s of spans) {
    const p = s.parent && ids.has(s.parent) ? s.parent : '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(s);
  }
  const out = [];
  const walk = (p, d) => {
    for (const s of kids.get(p) || []) {
      out.push({ s, d });
      if (out.length < 1000) walk(s.id, d + 1);
    }
  };
  walk('', 0);
  return out;
}

// TraceWaterfall shows a trace finding's example trace as a waterfall: a
// bar a span, indented by depth, the span the finding is about marked.
export function TraceWaterfall({ obs }) {
  const [data, err] = usePoll(() => api('/api/v1/observations/' + obs.id + '/trace'), [obs.id], 0);
  const head = <figcaption><b>{obs.entity}</b> <span class="tag">{obs.kind}</span> {obs.summary}</figcaption>;
  if (err && !data) return <figure class="trace">{head}<p class="error">{err.message}</p></figure>;
  if (!data) return <figure class="trace">{head}<p class="muted">loading…</p></figure>;
  if (!data.kept) {
    return (
      <figure class="trace">{head}
        <p class="small muted">{data.trace_id ? 'Example trace ' + data.trace_id + ' is no longer kept (seer keeps the last 128 traces findings named).' : 'This finding names no example trace.'}</p>
      </figure>
    );
  }
  const rows = tree(data.spans);
  const t0 = Math.min(...data.spans.map((s) => new Date(s.start).getTime()));
  const t1 = Math.max(...data.spans.map((s) => new Date(s.end).getTime()));
  const span = Math.max(1, t1 - t0);
  return (
    <figure class="trace" data-trace={data.trace_id}>
      {head}
      <p class="small muted">example trace {data.trace_id} · {data.spans.length} spans · {ns((t1 - t0) * 1e6)}</p>
      <table class="waterfall" aria-label={'trace ' + data.trace_id}>
        <tbody>
          {rows.map(({ s, d }) => {
            const a = new Date(s.start).getTime() - t0;
            const b = new Date(s.end).getTime() - t0;
            return (
              <tr class={'span' + (s.marked ? ' marked' : '') + (s.error ? ' err' : '')} data-service={s.service}>
                <td class="name" style={{ paddingLeft: 4 + d * 12 + 'px' }} title={s.operation}>
                  {s.marked && <b aria-label="the span of the finding">▶ </b>}<b>{s.service}</b> {s.operation}{s.client && s.peer ? ' → ' + s.peer : ''}
                  {s.error && <span class="tag bad">{s.error_type || 'error'}</span>}
                </td>
                <td class="bar"><div style={{ marginLeft: (a / span) * 100 + '%', width: Math.max(0.3, ((b - a) / span) * 100) + '%' }} /></td>
                <td class="dur">{ns((b - a) * 1e6)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
