import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, token, setToken } from './api.js';
import { Incidents } from './incidents.jsx';
import { IncidentPage } from './incident.jsx';
import { ServiceMap } from './map.jsx';
import { Explore } from './explore.jsx';
import { ServicePage } from './service.jsx';
import { Silences } from './silences.jsx';
import { Audit } from './audit.jsx';
import { Help, focusMain, useShortcuts } from './keys.jsx';
import { setSkew } from './fmt.js';
import './style.css';

// route reads the hash: #/, #/incidents/7, #/map, #/services/cart,
// #/explore?entity=cart, #/silences, #/audit.
function route() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(query || '') };
}

function useRoute() {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = () => setR(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

// useMe asks the API who we are and what we may do; it asks again when the
// token changes.
function useMe(tok) {
  const [me, setMe] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    const ask = () => api('/api/v1/whoami').then(
      (m) => { setSkew(new Date(m.now) - Date.now()); setMe(m); setErr(null); },
      (e) => { setMe(null); setErr(e); });
    ask();
    const t = setInterval(ask, 30000); // the engine's clock may drift from ours (a replay)
    return () => clearInterval(t);
  }, [tok]);
  return [me, err];
}

function Theme() {
  const [theme, set] = useState(localStorage.getItem('seer.theme') || '');
  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    localStorage.setItem('seer.theme', theme);
    dispatchEvent(new Event('seer-theme')); // canvases redraw in the new colours
  }, [theme]);
  const next = { '': 'dark', dark: 'light', light: '' }[theme];
  return (
    <button class="ghost" onClick={() => set(next)} title="Switch between the system's, dark and light colours">
      {theme === '' ? 'theme: system' : 'theme: ' + theme}
    </button>
  );
}

function TokenForm({ onSet, me, err }) {
  const [open, setOpen] = useState(false);
  const [val, setVal] = useState('');
  const needs = (err && err.status === 401) || (me && me.auth && !me.read);
  if (!open && !needs) {
    return (
      <button class="ghost token-button" onClick={() => setOpen(true)} title="Give an API token (kept for this tab only)">
        {me ? (me.auth ? me.name + ' (' + (me.role || 'no role') + ')' : 'no auth (loopback)') : 'token'}
      </button>
    );
  }
  return (
    <form class="token" onSubmit={(e) => { e.preventDefault(); setToken(val.trim()); onSet(val.trim()); setOpen(false); setVal(''); }}>
      <label for="token">{needs ? 'This seer wants a token:' : 'API token:'}</label>
      <input id="token" type="password" autocomplete="off" value={val} onInput={(e) => setVal(e.target.value)} placeholder="seer token new --role operate" />
      <button type="submit">use</button>
      {token() && <button type="button" class="ghost" onClick={() => { setToken(''); onSet(''); setOpen(false); }}>forget</button>}
      {!needs && <button type="button" class="ghost" onClick={() => setOpen(false)}>cancel</button>}
    </form>
  );
}

function App() {
  const r = useRoute();
  const [tok, setTok] = useState(token());
  const [me, meErr] = useMe(tok);
  const [help, setHelp] = useShortcuts();
  const page = r.parts[0] || 'incidents';
  let body;
  if (page === 'incidents' && r.parts[1]) body = <IncidentPage id={r.parts[1]} me={me} />;
  else if (page === 'map') body = <ServiceMap />;
  else if (page === 'services' && r.parts[1]) body = <ServicePage name={decodeURIComponent(r.parts.slice(1).join('/'))} me={me} />;
  else if (page === 'explore') body = <Explore query={r.query} />;
  else if (page === 'silences') body = <Silences query={r.query} me={me} />;
  else if (page === 'audit') body = <Audit />;
  // A link to other filters (#/?service=cart) starts the list afresh.
  else body = <Incidents key={r.query.toString()} query={r.query} me={me} />;
  const nav = (href, name, active, key) => (
    <a href={href} aria-current={active ? 'page' : undefined} aria-keyshortcuts={'g ' + key} title={name + ' (g then ' + key + ')'}>{name}</a>
  );
  return (
    <>
      {/* The routes live in the hash: the skip link moves the focus, not the hash. */}
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); focusMain(); }}>skip to content</a>
      <header>
        <a class="brand" href="#/">seer</a>
        <nav aria-label="pages">
          {nav('#/', 'Incidents', page === 'incidents', 'i')}
          {nav('#/map', 'Service map', page === 'map' || page === 'services', 'm')}
          {nav('#/explore', 'Explore', page === 'explore', 'e')}
          {nav('#/silences', 'Silences', page === 'silences', 's')}
          {nav('#/audit', 'Audit', page === 'audit', 'a')}
        </nav>
        <span class="grow" />
        <button class="ghost keys-button" onClick={() => setHelp(true)} title="Keyboard shortcuts (?)" aria-keyshortcuts="?">keys</button>
        <TokenForm onSet={setTok} me={me} err={meErr} />
        <Theme />
      </header>
      <main id="main" tabindex="-1">{body}</main>
      {help && <Help onClose={() => setHelp(false)} />}
    </>
  );
}

const root = document.getElementById('app');
root.textContent = ''; // the boot message goes; render appends
render(<App />, root);
performance.mark('seer-rendered'); // the browser test holds the first render to its budget
