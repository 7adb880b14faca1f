// Formatting shared by the pages.

// skew is the engine's clock less the browser's, from /api/v1/whoami: the
// engine runs on the data's time when the data lags (a replay, the demo).
let skew = 0;

export function setSkew(ms) {
  if (isFinite(ms)) skew = ms;
}

export function serverNow() {
  return Date.now() + skew;
}

export function age(t, now = serverNow()) {
  const ms = now - new Date(t).getTime();
  if (!isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm';
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h ' + (m % 60) + 'm';
  return Math.floor(h / 24) + 'd';
}

export function clock(t) {
  const d = new Date(t);
  if (isNaN(d) || d.getUTCFullYear() < 1971) return ''; // Go's zero time is no time
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function num(v) {
  if (v === undefined || v === null || !isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

export function ns(v) {
  if (!v) return '0';
  if (v >= 1e9) return (v / 1e9).toFixed(2) + 's';
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'ms';
  return (v / 1e3).toFixed(0) + 'µs';
}

// severity grades an incident by its top cause's score: what the ranking
// is sure of, which is what a pager ought to weigh.
export function severity(inc) {
  if (inc.status === 'resolved') return 'resolved';
  const s = (inc.causes && inc.causes[0] && inc.causes[0].score) || 0;
  if (s >= 0.6) return 'critical';
  if (s >= 0.3) return 'warning';
  return 'info';
}

// serviceOf is the service an entity belongs to: "cart/cart-1" is cart's
// instance; hosts ("host:db1") and services are their own.
export function serviceOf(entity) {
  const e = entity || '';
  if (e.startsWith('host:')) return e;
  const i = e.indexOf('/');
  return i > 0 ? e.slice(0, i) : e;
}

// FINDINGS_WINDOW is how far back the map and the service pages count a
// service's findings (by the engine's clock), in seconds.
export const FINDINGS_WINDOW = 900;

// health grades each service by the open incidents and the recent
// findings: 'bad' when it is the likely cause of an open incident, 'warn'
// when it is in one, 'finding' when it has findings of the last
// FINDINGS_WINDOW outside any incident, else 'ok'. It also returns, per
// service, the open incident to link to and the count of recent findings.
export function health(incidents, observations) {
  const state = new Map();
  const incOf = new Map();
  const findings = new Map();
  for (const o of observations || []) {
    const s = serviceOf(o.entity);
    findings.set(s, (findings.get(s) || 0) + 1);
    if (!state.has(s)) state.set(s, 'finding');
  }
  for (const i of incidents || []) {
    for (const e of i.entities) {
      const s = serviceOf(e);
      if (state.get(s) !== 'bad') state.set(s, 'warn');
      if (!incOf.has(s)) incOf.set(s, i.id);
    }
    if (i.causes[0]) {
      const s = serviceOf(i.causes[0].entity);
      state.set(s, 'bad');
      incOf.set(s, i.id);
    }
  }
  return { state, incOf, findings };
}

export const HEALTH_WORDS = {
  ok: 'healthy: no open incident, no recent finding',
  finding: 'recent findings, in no incident',
  warn: 'in an open incident',
  bad: 'likely cause of an open incident',
};
