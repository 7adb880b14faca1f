import { useEffect, useRef, useState } from 'preact/hooks';

// usePoll loads with fn now and again every interval ms while the page is
// visible; it returns [data, error, reload]. A slow answer never overwrites
// a newer one.
export function usePoll(fn, deps, interval = 2000) {
  const [state, setState] = useState({ data: null, err: null });
  const seq = useRef(0);
  const load = () => {
    const n = ++seq.current;
    return fn().then(
      (data) => { if (n === seq.current) setState({ data, err: null }); },
      (err) => { if (n === seq.current) setState((s) => ({ data: s.data, err })); },
    );
  };
  useEffect(() => {
    setState({ data: null, err: null });
    load();
    if (!interval) return undefined;
    const t = setInterval(() => { if (!document.hidden) load(); }, interval);
    return () => { clearInterval(t); seq.current++; };
  }, deps);
  return [state.data, state.err, load];
}
