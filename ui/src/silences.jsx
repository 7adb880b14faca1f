import { useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll } from './poll.js';
import { age, clock, serverNow } from './fmt.js';

const DURATIONS = ['30m', '1h', '2h', '4h', '12h', '24h', '72h', '168h'];

// stateOf says whether a silence mutes now, will, or did.
function stateOf(s, now) {
  const start = new Date(s.starts_at).getTime();
  const end = new Date(s.ends_at).getTime();
  if (now >= end) return 'expired';
  if (now < start) return 'pending';
  return 'active';
}

function NewSilence({ initial, onAdded }) {
  const [matchers, setMatchers] = useState(initial || '');
  const [dur, setDur] = useState('2h');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState('');
  const submit = (e) => {
    e.preventDefault();
    setBusy(true);
    setMsg('');
    api('/api/v1/silences', { method: 'POST', body: { matchers: matchers.trim(), for: dur, comment: comment.trim() } }).then(
      (r) => { setBusy(false); setMsg('Silence ' + r.silence.id + ' added.'); setComment(''); onAdded(); },
      (err) => { setBusy(false); setMsg('Not added: ' + err.message); });
  };
  return (
    <form class="filters new-silence" onSubmit={submit} aria-label="new silence">
      <label class="grow">matchers <input id="silence-matchers" required value={matchers} onInput={(e) => setMatchers(e.target.value)}
        placeholder='{service="cart",kind=~"metric.*"}' spellcheck={false} /></label>
      <label>for <select id="silence-for" value={dur} onChange={(e) => setDur(e.target.value)}>
        {DURATIONS.map((d) => <option value={d}>{d}</option>)}
      </select></label>
      <label class="grow">comment <input id="silence-comment" value={comment} onInput={(e) => setComment(e.target.value)} maxlength="1024" placeholder="why (a maintenance, a known problem)" /></label>
      <button type="submit" class="add-silence" disabled={busy}>silence</button>
      {msg && <p class="note" role="status">{msg}</p>}
    </form>
  );
}

// Silences lists the operators' silences (what they match, until when, who
// made or ended them) and lets an operator add one or end one early.
// Silenced findings are still recorded, but open and join no incident.
export function Silences({ query, me }) {
  const [data, err, reload] = usePoll(() => api('/api/v1/silences'), [], 5000);
  const [msg, setMsg] = useState('');
  const may = me && me.operate;
  const expire = (s) => {
    setMsg('');
    api('/api/v1/silences/' + encodeURIComponent(s.id), { method: 'DELETE' }).then(
      () => { setMsg('Silence ' + s.id + ' ended.'); reload(); },
      (e) => setMsg('Not ended: ' + e.message));
  };
  const now = serverNow();
  const list = (data && data.silences) || [];
  return (
    <section>
      <h1>Silences</h1>
      <p class="muted small">A silence mutes the findings its matchers match (labels <code>service</code>, <code>entity</code>, <code>kind</code>, <code>name</code>, or an alert's labels, in Alertmanager's syntax) for a time: they are still recorded, but open and join no incident, so nobody is paged and nothing is remediated.</p>
      {may && <NewSilence initial={query.get('matchers')} onAdded={reload} />}
      {me && !may && <p class="muted small">Adding and ending silences needs the operate role.</p>}
      {msg && <p class="note" role="status">{msg}</p>}
      {err && <p class="error" role="alert">Cannot list silences: {err.message}</p>}
      {data && list.length === 0 && <p class="muted">No silences.</p>}
      {list.length > 0 && (
        <table class="list silences" aria-label="silences">
          <thead><tr><th>state</th><th>matchers</th><th>comment</th><th>by</th><th>starts</th><th>ends</th>{may && <th>action</th>}</tr></thead>
          <tbody>{list.map((s) => {
            const st = stateOf(s, now);
            return (
              <tr class="silence" data-id={s.id} data-state={st}>
                <td><span class={'state ' + st}>{st}</span></td>
                <td><code>{s.matchers}</code></td>
                <td>{s.comment}</td>
                <td>{s.created_by}{s.expired_by && <span class="muted small"> · ended by {s.expired_by}</span>}</td>
                <td title={s.starts_at}>{clock(s.starts_at)}</td>
                <td title={s.ends_at}>{clock(s.ends_at)}{st === 'active' && <span class="muted small"> (in {age(now, new Date(s.ends_at).getTime())})</span>}</td>
                {may && <td>{st !== 'expired' && <button class="expire ghost" onClick={() => expire(s)} aria-label={'end silence ' + s.id}>end now</button>}</td>}
              </tr>
            );
          })}</tbody>
        </table>
      )}
    </section>
  );
}
