import { api } from './api.js';
import { usePoll } from './poll.js';
import { EvidencePlot } from './plot.jsx';
import { FINDINGS_WINDOW, HEALTH_WORDS, age, clock, health, ns, num, serverNow, serviceOf, severity } from './fmt.js';

const MAX_PLOTS = 6;
const MAX_FINDINGS = 100;

function IncidentRows({ list }) {
  const now = serverNow();
  return (
    <table class="list" aria-label="incidents of the service">
      <thead><tr><th>#</th><th>severity</th><th>what</th><th>likely cause</th><th>state</th><th>age</th></tr></thead>
      <tbody>{list.map((i) => {
        const sev = severity(i);
        const top = i.causes[0];
        return (
          <tr class="incident" data-id={i.id} key={i.id}>
            <td><a class="row-link" href={'#/incidents/' + i.id}>{i.id}</a></td>
            <td><span class={'sev ' + sev}>{sev}</span></td>
            <td><a href={'#/incidents/' + i.id}>{i.title}</a></td>
            <td>{top ? top.entity + (top.kind ? ' · ' + top.kind : '') : ''}</td>
            <td><span class={'state ' + i.status}>{i.status}</span></td>
            <td title={i.opened}>{age(i.opened, now)}</td>
          </tr>
        );
      })}</tbody>
    </table>
  );
}

function Dependencies({ name, topo, state }) {
  if (!topo) return <p class="muted">loading…</p>;
  const calls = topo.edges.filter((e) => e.caller === name && e.callee !== name);
  const callers = topo.edges.filter((e) => e.callee === name && e.caller !== name);
  if (calls.length + callers.length === 0) return <p class="muted">No calls to or from {name} seen or declared.</p>;
  const row = (e, other, dir) => {
    const h = state.get(other) || 'ok';
    return (
      <tr class="dep" data-dir={dir} data-service={other}>
        <td>{dir === 'callee' ? 'calls' : 'called by'}</td>
        <td><span class={'dot ' + h} title={HEALTH_WORDS[h]} /><a href={'#/services/' + encodeURIComponent(other)}>{other}</a></td>
        <td>{num(e.rate_per_s)}/s</td>
        <td class={e.error_ratio > 0.05 ? 'error' : ''}>{num(100 * e.error_ratio)} %</td>
        <td>{ns(e.latency_p50_ns)}</td>
        <td>{ns(e.latency_p99_ns)}</td>
      </tr>
    );
  };
  return (
    <table class="list deps" aria-label="dependencies">
      <thead><tr><th /><th>service</th><th>rate</th><th>errors</th><th>p50</th><th>p99</th></tr></thead>
      <tbody>
        {callers.map((e) => row(e, e.caller, 'caller'))}
        {calls.map((e) => row(e, e.callee, 'callee'))}
      </tbody>
    </table>
  );
}

// ServicePage is one service: its health, its incidents, its dependencies
// with their rates, errors and latencies, its findings with the series of
// its metric findings against their bands, and its changes and alarms.
export function ServicePage({ name, me }) {
  const enc = encodeURIComponent(name);
  const [topo] = usePoll(() => api('/api/v1/services'), [], 10000);
  const [incs, incErr] = usePoll(() => api('/api/v1/incidents?limit=500'), [name], 5000);
  const [obs, obsErr] = usePoll(() => api('/api/v1/observations?entity=' + enc + '&limit=500'), [name], 10000);
  const [evs] = usePoll(() => api('/api/v1/events?entity=' + enc + '&limit=100'), [name], 10000);
  const all = (incs && incs.incidents) || [];
  const mine = all.filter((i) => i.entities.some((e) => serviceOf(e) === name) || i.causes.some((c) => serviceOf(c.entity) === name));
  const open = mine.filter((i) => i.status !== 'resolved');
  const past = mine.filter((i) => i.status === 'resolved').slice(0, 10);
  const findings = (obs && obs.observations) || [];
  const since = serverNow() - FINDINGS_WINDOW * 1000;
  const recent = findings.filter((o) => new Date(o.time).getTime() >= since);
  const openAll = all.filter((i) => i.status !== 'resolved');
  const { state } = health(openAll, recent);
  const h = state.get(name) || 'ok';
  // The series: each metric finding's series once (its newest finding),
  // the strongest first.
  const seen = new Set();
  const series = findings.filter((o) => o.kind.startsWith('metric.'))
    .filter((o) => (seen.has(o.name) ? false : (seen.add(o.name), true)))
    .sort((a, b) => b.score - a.score).slice(0, MAX_PLOTS);
  const known = topo && (topo.services.includes(name) || topo.edges.some((e) => e.caller === name || e.callee === name));
  return (
    <article class="service-page" data-service={name} data-health={h}>
      <p class="crumbs"><a href="#/map">Service map</a> / {name}</p>
      <h1><span class={'dot ' + h} /> {name} <span class={'tag health ' + h}>{HEALTH_WORDS[h]}</span></h1>
      <p class="muted small">
        {topo && !known && <>Not in the discovered or declared topology. </>}
        {recent.length} {recent.length === 1 ? 'finding' : 'findings'} in the last {FINDINGS_WINDOW / 60} min, {open.length} open {open.length === 1 ? 'incident' : 'incidents'}.
        {' '}<a href={'#/explore?entity=' + enc}>Explore {name}</a>
        {me && me.operate && <> · <a href={'#/silences?matchers=' + encodeURIComponent('{service="' + name + '"}')}>silence {name}</a></>}
      </p>
      <div class="cols">
        <section aria-labelledby="h-svc-incidents">
          <h2 id="h-svc-incidents">Open incidents</h2>
          {incErr && <p class="error" role="alert">{incErr.message}</p>}
          {incs && open.length === 0 && <p class="muted">None.</p>}
          {open.length > 0 && <IncidentRows list={open} />}
          {past.length > 0 && <><h2>Resolved incidents</h2><IncidentRows list={past} /></>}
          <h2 id="h-deps">Dependencies</h2>
          <Dependencies name={name} topo={topo} state={health(openAll, []).state} />
          <h2>Changes and alarms</h2>
          {evs && evs.events.length === 0 && <p class="muted">None recorded.</p>}
          {evs && evs.events.length > 0 && (
            <div class="scroll"><table class="list" aria-label="changes of the service">
              <thead><tr><th>time</th><th>kind</th><th>text</th><th>source</th></tr></thead>
              <tbody>{evs.events.map((e) => <tr><td>{clock(e.time)}</td><td>{e.kind}</td><td>{e.text}</td><td>{e.source}</td></tr>)}</tbody>
            </table></div>
          )}
        </section>
        <section aria-labelledby="h-svc-series">
          <h2 id="h-svc-series">Series with their bands</h2>
          <p class="muted small">The series of {name}'s metric findings (the newest finding of each, the strongest first), against the band the detector expected.</p>
          {obs && series.length === 0 && <p class="muted">No metric findings.</p>}
          {series.map((o) => <EvidencePlot obs={o} key={o.id} />)}
          <h2 id="h-svc-findings">Findings</h2>
          {obsErr && <p class="error" role="alert">{obsErr.message}</p>}
          {obs && findings.length === 0 && <p class="muted">None recorded.</p>}
          {findings.length > 0 && (
            <div class="scroll"><table class="list" aria-label="findings of the service">
              <thead><tr><th>time</th><th>kind</th><th>name</th><th>score</th><th>summary</th></tr></thead>
              <tbody>{findings.slice(0, MAX_FINDINGS).map((o) => (
                <tr class="finding"><td>{clock(o.time)}</td><td>{o.kind}</td><td>{o.name}</td><td>{num(o.score)}</td><td>{o.summary}</td></tr>))}
              </tbody>
            </table></div>
          )}
        </section>
      </div>
    </article>
  );
}
