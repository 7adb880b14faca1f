import { useEffect, useRef, useState } from 'preact/hooks';

// usePoll loads with fn now and again every interval ms while the page is
// visible (and active(), when given, says so); it returns [data, error,
// reload, set]. A slow answer never overwrites a newer one.
export function usePoll(fn, deps, interval = 2000, active = null) {
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
    const t = setInterval(() => { if (!document.hidden && (!active || active())) load(); }, interval);
    return () => { clearInterval(t); seq.current++; };
  }, deps);
  const set = (f) => setState((s) => ({ data: f(s.data), err: s.err }));
  return [state.data, state.err, load, set];
}
