import { useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { clock, num } from './fmt.js';

const KINDS = ['metric.anomaly', 'metric.forecast', 'log.new_template', 'log.rare', 'log.burst', 'log.silence',
  'log.error_burst', 'trace.latency', 'trace.errors', 'trace.unreachable', 'trace.structure', 'trace.timeout', 'change', 'alarm'];
const RANGES = { '': 'any time', 900: 'last 15 min', 3600: 'last hour', 21600: 'last 6 h', 86400: 'last day', 604800: 'last week' };

export function Explore({ query }) {
  const [entity, setEntity] = useState(query.get('entity') || '');
  const [applied, setApplied] = useState(query.get('entity') || '');
  const [kind, setKind] = useState('');
  const [range, setRange] = useState('');
  const q = () => {
    const p = new URLSearchParams({ limit: '500' });
    if (range) p.set('since', range + 's');
    if (applied) p.set('entity', applied);
    return p;
  };
  const [obs, obsErr] = usePoll(() => {
    const p = q();
    if (kind) p.set('kind', kind);
    return api('/api/v1/observations?' + p);
  }, [applied, kind, range], 5000);
  const [evs] = usePoll(() => api('/api/v1/events?' + q()), [applied, range], 5000);
  return (
    <section>
      <h1>Explore{applied && <>: {applied}</>}</h1>
      <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); setApplied(entity.trim()); }}>
        <label>entity <input value={entity} onInput={(e) => setEntity(e.target.value)} placeholder="any (e.g. cart)" /></label>
        <label>kind <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">any</option>{KINDS.map((k) => <option value={k}>{k}</option>)}
        </select></label>
        <label>time <select value={range} onChange={(e) => setRange(e.target.value)}>
          {Object.entries(RANGES).map(([v, n]) => <option value={v}>{n}</option>)}
        </select></label>
        <button type="submit">show</button>
      </form>
      <h2>Observations</h2>
      {obsErr && <p class="error" role="alert">{obsErr.message}</p>}
      {obs && obs.observations.length === 0 && <p class="muted">None in this range.</p>}
      {obs && obs.observations.length > 0 && (
        <div class="scroll"><table class="list" aria-label="observations">
          <thead><tr><th>time</th><th>entity</th><th>kind</th><th>name</th><th>score</th><th>summary</th></tr></thead>
          <tbody>{obs.observations.map((o) => (
            <tr><td>{clock(o.time)}</td><td><a href={'#/explore?entity=' + encodeURIComponent(o.entity)} onClick={() => { setEntity(o.entity); setApplied(o.entity); }}>{o.entity}</a></td>
              <td>{o.kind}</td><td>{o.name}</td><td>{num(o.score)}</td><td>{o.summary}</td></tr>))}
          </tbody>
        </table></div>
      )}
      <h2>Changes and alarms</h2>
      {evs && evs.events.length === 0 && <p class="muted">None in this range.</p>}
      {evs && evs.events.length > 0 && (
        <div class="scroll"><table class="list" aria-label="events">
          <thead><tr><th>time</th><th>entity</th><th>kind</th><th>text</th><th>source</th></tr></thead>
          <tbody>{evs.events.map((e) => <tr><td>{clock(e.time)}</td><td>{e.entity}</td><td>{e.kind}</td><td>{e.text}</td><td>{e.source}</td></tr>)}</tbody>
        </table></div>
      )}
      <p class="small">What was done about them, and by whom: <a href="#/audit">the audit log</a>.</p>
    </section>
  );
}
