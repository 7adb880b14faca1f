import { useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { age, serverNow, severity } from './fmt.js';

const RANGES = { '': 'any time', 3600: 'last hour', 21600: 'last 6 h', 86400: 'last day', 604800: 'last week' };

export function Incidents({ query }) {
  const [status, setStatus] = useState(query.get('status') || '');
  const [service, setService] = useState(query.get('service') || '');
  const [text, setText] = useState(query.get('q') || '');
  const [range, setRange] = useState('');
  const [data, err] = usePoll(() => {
    const q = new URLSearchParams({ limit: '500' });
    if (status) q.set('status', status);
    if (range) q.set('since', range + 's'); // the API reads times ago
    return api('/api/v1/incidents?' + q);
  }, [status, range], 2000);
  const list = (data && data.incidents) || [];
  const services = useMemo(() => [...new Set(list.flatMap((i) => i.entities))].sort(), [data]);
  const t = text.trim().toLowerCase();
  const shown = list.filter((i) =>
    (!service || i.entities.includes(service) || (i.causes[0] && i.causes[0].entity === service)) &&
    (!t || (i.title + ' ' + i.entities.join(' ') + ' ' + i.causes.map((c) => c.entity).join(' ')).toLowerCase().includes(t)));
  const now = serverNow();
  return (
    <section>
      <h1>Incidents</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>state <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">all</option><option value="open">open</option>
          <option value="mitigating">mitigating</option><option value="resolved">resolved</option>
        </select></label>
        <label>service <select value={service} onChange={(e) => setService(e.target.value)}>
          <option value="">all</option>
          {services.map((s) => <option value={s}>{s}</option>)}
        </select></label>
        <label>updated <select value={range} onChange={(e) => setRange(e.target.value)}>
          {Object.entries(RANGES).map(([v, n]) => <option value={v}>{n}</option>)}
        </select></label>
        <label class="grow">text <input type="search" value={text} onInput={(e) => setText(e.target.value)} placeholder="title, service, cause" /></label>
      </form>
      {err && <p class="error" role="alert">Cannot list incidents: {err.message}</p>}
      {!data && !err && <p class="muted">loading…</p>}
      {data && shown.length === 0 && <p class="muted">No incidents{list.length ? ' match these filters' : ' yet: seer has seen nothing wrong'}.</p>}
      {shown.length > 0 && (
        <table class="list" aria-label="incidents">
          <thead><tr><th>#</th><th>severity</th><th>what</th><th>likely cause</th><th>services</th><th>state</th><th>age</th></tr></thead>
          <tbody>
            {shown.map((i) => {
              const sev = severity(i);
              const top = i.causes[0];
              return (
                <tr class="incident" data-id={i.id} key={i.id}>
                  <td><a href={'#/incidents/' + i.id}>{i.id}</a></td>
                  <td><span class={'sev ' + sev}>{sev}</span></td>
                  <td><a href={'#/incidents/' + i.id}>{i.title}</a></td>
                  <td class="cause">{top ? top.entity + (top.kind ? ' · ' + top.kind : '') : <span class="muted">ranking…</span>}</td>
                  <td class="ents">{i.entities.slice(0, 4).join(', ')}{i.entities.length > 4 ? ' +' + (i.entities.length - 4) : ''}</td>
                  <td><span class={'state ' + i.status}>{i.status}</span>
                    {i.acknowledged_by && <span class="tag good" title={'acknowledged by ' + i.acknowledged_by}>ack</span>}
                    {i.labels && i.labels.assignee && <span class="tag">{i.labels.assignee}</span>}</td>
                  <td title={i.opened}>{age(i.opened, now)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p class="muted small">Updated every 2 s. Severity grades the top cause's score (critical ≥ 0.6, warning ≥ 0.3).</p>
    </section>
  );
}
