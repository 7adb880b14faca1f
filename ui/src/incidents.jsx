import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { useIncidentStream } from './live.js';
import { Lifecycle } from './lifecycle.jsx';
import { age, serverNow, serviceOf, severity } from './fmt.js';

// merge puts the incident in as it is now: in place of the one with its ID,
// or first when it is new; one the state filter no longer shows goes.
function merge(data, inc, status) {
  if (!data) return data;
  const list = data.incidents.filter((i) => i.id !== inc.id);
  if (!status || inc.status === status) {
    const at = data.incidents.findIndex((i) => i.id === inc.id);
    list.splice(at < 0 ? 0 : at, 0, inc);
  }
  return { ...data, incidents: list };
}

const RANGES = { '': 'any time', 3600: 'last hour', 21600: 'last 6 h', 86400: 'last day', 604800: 'last week' };

export function Incidents({ query, me }) {
  const [status, setStatus] = useState(query.get('status') || '');
  const [service, setService] = useState(query.get('service') || '');
  const [text, setText] = useState(query.get('q') || '');
  const [range, setRange] = useState(RANGES[query.get('range')] ? query.get('range') : '');
  // The filters are kept in the address, so that a link or a reload shows
  // the same list; replaceState leaves the history and the route alone.
  useEffect(() => {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (service) q.set('service', service);
    if (range) q.set('range', range);
    if (text) q.set('q', text);
    const qs = q.toString();
    const want = '#/' + (qs ? '?' + qs : '');
    if (location.hash !== want && !(want === '#/' && location.hash === '')) history.replaceState(null, '', want);
  }, [status, service, range, text]);
  // The list is loaded once and kept current by the event stream; while
  // the stream is not open it is polled every 2 s instead.
  let streamOpen = { current: false };
  const [data, err, reload, setData] = usePoll(() => {
    const q = new URLSearchParams({ limit: '500' });
    if (status) q.set('status', status);
    if (range) q.set('since', range + 's'); // the API reads times ago
    return api('/api/v1/incidents?' + q);
  }, [status, range], 2000, () => !streamOpen.current);
  const [mode, open] = useIncidentStream((inc) => setData((d) => merge(d, inc, status)), () => reload(), me ? me.name : '');
  streamOpen = open;
  const update = (inc) => setData((d) => merge(d, inc, status));
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
          <thead><tr><th>#</th><th>severity</th><th>what</th><th>likely cause</th><th>services</th><th>state</th><th>age</th>{me && me.operate && <th>action</th>}</tr></thead>
          <tbody>
            {shown.map((i) => {
              const sev = severity(i);
              const top = i.causes[0];
              return (
                <tr class="incident" data-id={i.id} key={i.id}>
                  <td><a class="row-link" href={'#/incidents/' + i.id}>{i.id}</a></td>
                  <td><span class={'sev ' + sev}>{sev}</span></td>
                  <td><a href={'#/incidents/' + i.id}>{i.title}</a></td>
                  <td class="cause">{top ? top.entity + (top.kind ? ' · ' + top.kind : '') : <span class="muted">ranking…</span>}</td>
                  <td class="ents">{i.entities.slice(0, 4).map((e, n) => <>{n > 0 && ', '}<a href={'#/services/' + encodeURIComponent(serviceOf(e))}>{e}</a></>)}{i.entities.length > 4 ? ' +' + (i.entities.length - 4) : ''}</td>
                  <td><span class={'state ' + i.status}>{i.status}</span>
                    {i.acknowledged_by && <span class="tag good" title={'acknowledged by ' + i.acknowledged_by}>ack</span>}
                    {i.labels && i.labels.assignee && <span class="tag">{i.labels.assignee}</span>}</td>
                  <td title={i.opened}>{age(i.opened, now)}</td>
                  {me && me.operate && <td><Lifecycle inc={i} me={me} onDone={update} compact /></td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p class="muted small">
        <span class={'live ' + mode} data-live={mode === 'live' ? 'sse' : mode}>
          {mode === 'live' ? 'live: changes appear as seer makes them' : mode === 'polling' ? 'the live stream is unavailable: updated every 2 s' : 'connecting…'}
        </span>. Severity grades the top cause's score (critical ≥ 0.6, warning ≥ 0.3).</p>
    </section>
  );
}
