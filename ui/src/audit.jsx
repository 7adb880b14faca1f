import { useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { clock } from './fmt.js';

const RANGES = { '': 'any time', 3600: 'last hour', 21600: 'last 6 h', 86400: 'last day', 604800: 'last week' };
const LIMIT = 500;

// who reads an execution's trigger: "operator:alice" was alice's approval,
// "policy" seer's own (an auto runbook, or a plan).
function who(trigger) {
  if (!trigger) return '';
  if (trigger.startsWith('operator:')) return trigger.slice(9);
  return 'seer (' + trigger + ')';
}

// Audit is the log of what was done to the systems seer watches and by
// whom: every runbook step planned, approved, rejected or run, from the
// execution records (GET /api/v1/audit).
export function Audit() {
  const [range, setRange] = useState('');
  const [text, setText] = useState('');
  const [runs, err] = usePoll(() => {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (range) q.set('since', range + 's');
    return api('/api/v1/audit?' + q);
  }, [range], 5000);
  const rows = [
    ...((runs && runs.executions) || []).map((e) => ({
      key: 'x' + e.id, t: e.started, by: who(e.trigger), incident: e.incident_id, status: e.status,
      what: e.runbook + ' · ' + e.step + (e.target ? ' on ' + e.target : '') + ' (' + e.mode + ')',
      detail: e.output || e.input || '', kind: 'runbook',
    })),
  ];
  const t = text.trim().toLowerCase();
  const shown = rows
    .filter((r) => !t || (r.by + ' ' + r.what + ' ' + r.status + ' ' + r.incident).toLowerCase().includes(t))
    .sort((a, b) => (new Date(b.t).getTime() || 0) - (new Date(a.t).getTime() || 0));
  return (
    <section>
      <h1>Audit log</h1>
      <p class="muted small">Who did what to the systems seer watches: every runbook step seer planned, an operator approved or rejected, or that ran (with its output), newest first; <i>who</i> is the operator's token name, or seer with the policy that started it. A step waiting for approval has no start time yet and shows only under any time. Who made or ended a silence is on the silences page.</p>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>time <select value={range} onChange={(e) => setRange(e.target.value)}>
          {Object.entries(RANGES).map(([v, n]) => <option value={v}>{n}</option>)}
        </select></label>
        <label class="grow">text <input type="search" value={text} onInput={(e) => setText(e.target.value)} placeholder="who, runbook, status, incident" /></label>
      </form>
      {err && <p class="error" role="alert">Cannot read the audit log: {err.message}</p>}
      {runs && shown.length === 0 && <p class="muted">Nothing done{t || range ? ' that matches' : ' yet'}.</p>}
      {shown.length > 0 && (
        <table class="list audit" aria-label="audit log">
          <thead><tr><th>when</th><th>who</th><th>what</th><th>incident</th><th>status</th><th>output</th></tr></thead>
          <tbody>{shown.map((r) => (
            <tr class={'audit ' + r.kind} key={r.key} data-status={r.status}>
              <td>{clock(r.t)}</td>
              <td class="who">{r.by}</td>
              <td>{r.what}</td>
              <td><a href={'#/incidents/' + r.incident}>{r.incident}</a></td>
              <td><span class={'state ' + r.status}>{r.status}</span></td>
              <td><pre class="output">{r.detail.length > 400 ? r.detail.slice(0, 400) + '…' : r.detail}</pre></td>
            </tr>))}
          </tbody>
        </table>
      )}
    </section>
  );
}
