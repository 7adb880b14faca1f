import { useEffect, useRef, useState } from 'preact/hooks';
import { token } from './api.js';

// useIncidentStream listens to GET /api/v1/stream (server-sent events) and
// hands each incident it carries to onIncident. It reads the stream with
// fetch, not EventSource, so that the token goes in the Authorization
// header as for every other call. It returns the mode ('connecting',
// 'live' while the stream is open, 'polling' while it is not) and a ref that
// is true while the stream is open, for the caller's poll to stand down.
// When the stream fails or ends (a dropped client, a proxy that buffers,
// seer restarting) it tries again after retry ms; onOpen is called each
// time it opens, to catch up on what was missed.
export function useIncidentStream(onIncident, onOpen, key, retry = 5000) {
  const [mode, setMode] = useState('connecting');
  const open = useRef(false);
  const handlers = useRef({ onIncident, onOpen });
  handlers.current = { onIncident, onOpen };
  useEffect(() => {
    let stopped = false;
    let ctrl = null;
    let wake = null;
    const pause = (ms) => new Promise((r) => { wake = setTimeout(r, ms); });
    const run = async () => {
      while (!stopped) {
        ctrl = new AbortController();
        try {
          const headers = { Accept: 'text/event-stream' };
          const t = token();
          if (t) headers.Authorization = 'Bearer ' + t;
          const res = await fetch('/api/v1/stream', { headers, signal: ctrl.signal, cache: 'no-store' });
          if (!res.ok || !res.body) throw new Error('stream ' + res.status);
          open.current = true;
          setMode('live');
          handlers.current.onOpen();
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let ev = 'message';
              let data = '';
              for (const line of block.split('\n')) {
                if (line.startsWith('event:')) ev = line.slice(6).trim();
                else if (line.startsWith('data:')) data += line.slice(5).trimStart();
              }
              if (ev === 'incident' && data) handlers.current.onIncident(JSON.parse(data));
            }
          }
        } catch {
          // refused, cut or aborted: poll until the next try
        }
        open.current = false;
        if (stopped) return;
        setMode('polling');
        await pause(retry);
      }
    };
    run();
    return () => {
      stopped = true;
      open.current = false;
      if (ctrl) ctrl.abort();
      clearTimeout(wake);
    };
  }, [key]);
  return [mode, open];
}
