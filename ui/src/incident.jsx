import { useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { age, clock, num, serviceOf, severity } from './fmt.js';
import { EvidencePlot } from './plot.jsx';
import { Lifecycle } from './lifecycle.jsx';
import { LogEvidence } from './logs.jsx';
import { TraceWaterfall } from './trace.jsx';

const MAX_PLOTS = 6;

// sentence says what is wrong in one line.
function sentence(inc) {
  const top = inc.causes[0];
  const n = inc.entities.length;
  let s = inc.title + ' — ' + n + (n === 1 ? ' service' : ' services') + ' anomalous since ' + clock(inc.onset);
  if (top) s += '; most likely cause: ' + top.entity + (top.kind ? ' (' + top.kind + ')' : '') + '.';
  else s += '; no cause ranked yet.';
  return s;
}

function Facts({ facts }) {
  if (!facts || facts.length === 0) return null;
  return (
    <table class="facts" aria-label="facts">
      <thead><tr><th>fact</th><th>entity</th><th>series</th><th>change</th><th>z</th><th>when</th></tr></thead>
      <tbody>{facts.map((f) => (
        <tr>
          <td>{f.kind}{f.peer ? ' → ' + f.peer : ''}</td>
          <td>{f.entity}</td>
          <td>{f.series || f.quantity || ''}</td>
          <td>{f.before || f.after ? num(f.before) + ' → ' + num(f.after) : ''} {f.direction || ''}</td>
          <td>{num(f.z)}</td>
          <td>{f.time ? clock(f.time) : ''}</td>
        </tr>))}
      </tbody>
    </table>
  );
}

function Causes({ inc, me, reload }) {
  const [msg, setMsg] = useState('');
  const labels = inc.labels || {};
  const confirmed = labels['feedback.confirmed'] || '';
  const rejected = (labels['feedback.rejected'] || '').split(',').filter(Boolean);
  const send = (body, what) => {
    setMsg('');
    api('/api/v1/incidents/' + inc.id + '/feedback', { method: 'POST', body }).then(
      () => { setMsg(what + ' recorded.'); reload(); },
      (e) => setMsg('Not recorded: ' + e.message));
  };
  if (inc.causes.length === 0) return <p class="muted">No cause ranked yet; the ranking runs as the evidence arrives.</p>;
  return (
    <>
      <p class="muted small">Causes are ranked by how well each explains the symptoms through the call graph; the score (0–1) is the ranking's confidence relative to the others.</p>
      <ol class="causes">
        {inc.causes.map((c, i) => (
          <li class={'cause' + (i === 0 ? ' top' : '')} data-entity={c.entity}>
            <div class="row">
              <b class="entity"><a href={'#/services/' + encodeURIComponent(serviceOf(c.entity))}>{c.entity}</a></b>
              {c.kind && <span class="tag">{c.kind}</span>}
              <meter min="0" max="1" value={c.score} title={'score ' + num(c.score)} />
              <span class="small">{num(c.score)}</span>
              {confirmed === c.entity && <span class="tag good">confirmed</span>}
              {rejected.includes(c.entity) && <span class="tag bad">rejected</span>}
              <span class="grow" />
              {me && me.operate && (
                <span class="actions">
                  <button class="confirm" onClick={() => send({ confirm: c.entity }, 'Confirmation of ' + c.entity)} disabled={confirmed === c.entity}>confirm</button>
                  <button class="reject ghost" onClick={() => send({ reject: [c.entity] }, 'Rejection of ' + c.entity)} disabled={rejected.includes(c.entity)}>reject</button>
                </span>
              )}
            </div>
            {c.evidence && c.evidence.length > 0 && <ul class="evidence">{c.evidence.map((e) => <li>{e}</li>)}</ul>}
            <Facts facts={c.facts} />
          </li>
        ))}
      </ol>
      {msg && <p class="note" role="status">{msg}</p>}
    </>
  );
}

// Ack shows who acknowledged the incident and who works on it, and lets an
// operator acknowledge it (and name an assignee).
function Ack({ inc, me, reload }) {
  const labels = inc.labels || {};
  const [who, setWho] = useState(labels.assignee || '');
  const [msg, setMsg] = useState('');
  const ack = (e) => {
    e.preventDefault();
    setMsg('');
    api('/api/v1/incidents/' + inc.id + '/ack', { method: 'POST', body: { assignee: who.trim() } }).then(
      () => { setMsg('Acknowledged.'); reload(); },
      (err) => setMsg('Not acknowledged: ' + err.message));
  };
  return (
    <div class="ack">
      {inc.acknowledged_by
        ? <span class="tag good">acknowledged by {inc.acknowledged_by} at {clock(inc.acknowledged)}</span>
        : <span class="tag bad">not acknowledged</span>}
      {labels.assignee && <span class="tag">assigned to {labels.assignee}</span>}
      {inc.status === 'resolved' && <span class="tag good">resolved {clock(inc.resolved)}</span>}
      {me && me.operate && inc.status !== 'resolved' && (
        <form class="inline" onSubmit={ack}>
          <label>assignee <input id="assignee" value={who} onInput={(e) => setWho(e.target.value)} placeholder="optional" maxlength="128" /></label>
          <button type="submit" class="acknowledge">{inc.acknowledged_by ? 'acknowledge again' : 'acknowledge'}</button>
        </form>
      )}
      {msg && <span class="note" role="status">{msg}</span>}
      <Lifecycle inc={inc} me={me} onDone={() => { setMsg(''); reload(); }} />
    </div>
  );
}

function Runbook({ inc, executions, me, reload }) {
  const [msg, setMsg] = useState('');
  const [busy, setBusy] = useState(false);
  const nom = inc.runbook;
  const pending = executions.some((e) => e.status === 'pending-approval');
  const decide = (what) => {
    setBusy(true);
    setMsg('');
    api('/api/v1/incidents/' + inc.id + '/' + what, { method: 'POST', body: {} }).then(
      () => { setMsg(what === 'approve' ? 'Approved: the runbook runs.' : 'Rejected.'); setBusy(false); reload(); },
      (e) => { setMsg('Refused: ' + e.message); setBusy(false); });
  };
  if (!nom && executions.length === 0) return <p class="muted">No runbook matches this incident.</p>;
  return (
    <div class="runbook">
      {nom && (
        <p><b>{nom.name}</b> on <b>{nom.target}</b> <span class="tag">{nom.mode}</span>
          {nom.actions && nom.actions.length > 0 && <> — {nom.actions.join(', ')}</>}
          {nom.needs && nom.needs.length > 0 && <> — cannot run here: needs {nom.needs.join(', ')}</>}</p>
      )}
      {pending && me && me.operate && (
        <p class="actions">
          <button class="approve" disabled={busy} onClick={() => decide('approve')}>approve and run</button>
          <button class="reject-run ghost" disabled={busy} onClick={() => decide('reject')}>reject</button>
        </p>
      )}
      {pending && !(me && me.operate) && <p class="muted small">Waiting for approval by someone with the operate role.</p>}
      {msg && <p class="note" role="status">{msg}</p>}
      {executions.length > 0 && (
        <table class="list executions" aria-label="runbook steps">
          <thead><tr><th>step</th><th>target</th><th>mode</th><th>status</th><th>by</th><th>started</th><th>output</th></tr></thead>
          <tbody>{executions.map((e) => (
            <tr data-status={e.status}>
              <td>{e.step}</td><td>{e.target}</td><td>{e.mode}</td>
              <td><span class={'state ' + e.status}>{e.status}</span></td>
              <td>{e.trigger}</td><td>{clock(e.started)}</td>
              <td><pre class="output">{e.output || e.input || ''}</pre></td>
            </tr>))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Timeline({ obs, events }) {
  const items = [
    ...obs.map((o) => ({ t: o.start || o.time, kind: o.kind, entity: o.entity, text: o.summary || o.name, score: o.score })),
    ...events.map((e) => ({ t: e.time, kind: 'event:' + e.kind, entity: e.entity, text: e.text || '', ev: true })),
  ].sort((a, b) => new Date(a.t) - new Date(b.t)).slice(0, 300);
  if (items.length === 0) return <p class="muted">Nothing yet.</p>;
  return (
    <ol class="timeline" aria-label="timeline">
      {items.map((it) => (
        <li class={it.ev ? 'ev' : ''}>
          <time>{clock(it.t).slice(11)}</time>
          <span class="tag">{it.kind}</span>
          <b>{it.entity}</b> <span>{it.text}</span>
          {it.score !== undefined && <span class="muted small"> score {num(it.score)}</span>}
        </li>
      ))}
    </ol>
  );
}

export function IncidentPage({ id, me }) {
  const [data, err, reload] = usePoll(() => api('/api/v1/incidents/' + encodeURIComponent(id)), [id], 3000);
  const [events] = usePoll(() => {
    if (!data) return Promise.resolve(null);
    const on = new Date(data.incident.onset).getTime();
    const q = new URLSearchParams({ since: new Date(on - 3600e3).toISOString(), limit: '200' });
    return api('/api/v1/events?' + q);
  }, [id, data ? data.incident.onset : ''], 10000);
  const [explain] = usePoll(() => api('/api/v1/incidents/' + encodeURIComponent(id) + '/explain'), [id], 10000);
  if (err && !data) return <section><h1>Incident {id}</h1><p class="error" role="alert">{err.message}</p><a href="#/">back to the incidents</a></section>;
  if (!data) return <section><h1>Incident {id}</h1><p class="muted">loading…</p></section>;
  const inc = data.incident;
  const obs = data.observations;
  const metrics = obs.filter((o) => o.kind.startsWith('metric.')).sort((a, b) => b.score - a.score).slice(0, MAX_PLOTS);
  const logs = obs.filter((o) => o.kind.startsWith('log.')).sort((a, b) => b.score - a.score).slice(0, MAX_PLOTS);
  const traces = obs.filter((o) => o.kind.startsWith('trace.') && o.evidence && o.evidence.trace_id).sort((a, b) => b.score - a.score).slice(0, 3);
  const sev = severity(inc);
  return (
    <article class="incident-page">
      <p class="crumbs"><a href="#/">Incidents</a> / {inc.id}</p>
      <h1><span class={'sev ' + sev}>{sev}</span> {inc.title}</h1>
      <p class="sentence">{sentence(inc)}</p>
      <p class="muted small">
        <span class={'state ' + inc.status}>{inc.status}</span> · opened {age(inc.opened)} ago ({clock(inc.opened)}) · updated {clock(inc.updated)}
        {inc.diagnosed && <> · diagnosed {clock(inc.diagnosed)}</>} · services: {inc.entities.join(', ')}
      </p>
      <Ack inc={inc} me={me} reload={reload} />
      <div class="cols">
        <section aria-labelledby="h-causes">
          <h2 id="h-causes">Ranked causes</h2>
          <Causes inc={inc} me={me} reload={reload} />
          <h2 id="h-runbook">Runbook</h2>
          <Runbook inc={inc} executions={data.executions} me={me} reload={reload} />
          {explain && explain.text && (<><h2>Explanation</h2><pre class="explain">{explain.text}</pre></>)}
        </section>
        <section aria-labelledby="h-evidence">
          <h2 id="h-evidence">Evidence plots</h2>
          {metrics.length === 0 && <p class="muted">No metric findings in this incident.</p>}
          {metrics.map((o) => <EvidencePlot obs={o} key={o.id} />)}
          {logs.length > 0 && <h2 id="h-logs">Log templates</h2>}
          {logs.map((o) => <LogEvidence obs={o} key={o.id} />)}
          {traces.length > 0 && <h2 id="h-traces">Example traces</h2>}
          {traces.map((o) => <TraceWaterfall obs={o} key={o.id} />)}
          <h2>Timeline</h2>
          <Timeline obs={obs} events={(events && events.events) || []} />
        </section>
      </div>
    </article>
  );
}
