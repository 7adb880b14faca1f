import { api } from './api.js';
import { usePoll } from './poll.js';
import { clock, num } from './fmt.js';

// LogEvidence shows a log finding: its template, example lines, and the
// template's count per window before and after the onset (bars; the
// windows from the onset on are marked), as far as seer still keeps them.
export function LogEvidence({ obs }) {
  const [data, err] = usePoll(() => api('/api/v1/observations/' + obs.id + '/logs'), [obs.id], 15000);
  if (err && !data) return <figure class="logs"><figcaption>{obs.summary}</figcaption><p class="error">{err.message}</p></figure>;
  if (!data) return <figure class="logs"><figcaption>{obs.summary}</figcaption><p class="muted">loading…</p></figure>;
  const onset = new Date(data.onset).getTime();
  const ws = data.windows;
  const w = data.window_seconds * 1000;
  const max = Math.max(1, ...ws.map((x) => x.count), data.expected || 0);
  const before = ws.filter((x) => new Date(x.start).getTime() + w <= onset);
  const after = ws.filter((x) => new Date(x.start).getTime() + w > onset);
  const sum = (l) => l.reduce((a, x) => a + x.count, 0);
  const H = 60, bw = 10;
  return (
    <figure class="logs" data-kind={obs.kind}>
      <figcaption><b>{obs.entity}</b> <span class="tag">{obs.kind}</span> {obs.summary}</figcaption>
      <code class="template">{data.template}</code>
      {ws.length > 0 ? (
        <>
          <svg class="bars" width={ws.length * bw + 2} height={H + 2} role="img"
            aria-label={'lines per ' + data.window_seconds + ' s window: ' + sum(before) + ' in ' + before.length + ' windows before the onset, ' + sum(after) + ' in ' + after.length + ' from it'}>
            {data.expected > 0 && <line class="expected" x1="0" x2={ws.length * bw} y1={H - (data.expected / max) * H} y2={H - (data.expected / max) * H} />}
            {ws.map((x, i) => {
              const h = Math.max(x.count ? 2 : 0, (x.count / max) * H);
              const late = new Date(x.start).getTime() + w > onset;
              return <rect class={'bar' + (late ? ' after' : '')} x={i * bw + 1} y={H - h} width={bw - 2} height={h}><title>{clock(x.start) + ': ' + x.count}</title></rect>;
            })}
          </svg>
          <p class="small muted">lines per {data.window_seconds} s window: <span class="before">{sum(before)} in the {before.length} windows before the onset</span>, <span class="after">{sum(after)} from it on</span>{data.expected > 0 && <> (expected {num(data.expected)} a window, the line)</>}</p>
        </>
      ) : <p class="small muted">The counts are no longer kept (seer keeps a template's last 40 windows while it logs).</p>}
      {data.examples.length > 0 && <pre class="examples">{data.examples.join('\n')}</pre>}
    </figure>
  );
}
