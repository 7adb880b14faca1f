import { useState } from 'preact/hooks';
import { api } from './api.js';

// act takes a lifecycle action (ack, resolve, reopen) on an incident; it
// resolves to the incident as the API answers it.
export function act(id, action, body = {}) {
  return api('/api/v1/incidents/' + id + '/' + action, { method: 'POST', body }).then((r) => r.incident);
}

// Lifecycle shows resolve (or reopen, for a resolved incident) to a user
// who may operate, and reports what happened; onDone gets the incident as
// it is after the action.
export function Lifecycle({ inc, me, onDone, compact }) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState('');
  if (!(me && me.operate)) return null;
  const resolved = inc.status === 'resolved';
  const action = resolved ? 'reopen' : 'resolve';
  const go = () => {
    setBusy(true);
    setMsg('');
    act(inc.id, action).then(
      (out) => { setBusy(false); setMsg(compact ? '' : (resolved ? 'Reopened.' : 'Resolved.')); onDone(out); },
      (e) => { setBusy(false); setMsg((resolved ? 'Not reopened: ' : 'Not resolved: ') + e.message); });
  };
  return (
    <span class="lifecycle">
      <button class={action + (compact ? ' ghost' : '')} disabled={busy} onClick={go}
        title={resolved ? 'Open the incident again' : 'Mark the incident resolved'}
        aria-label={compact ? action + ' incident ' + inc.id : undefined}>{action}</button>
      {msg && <span class="note" role="status">{msg}</span>}
    </span>
  );
}
