// The API client: every call goes to the same origin, with the token from
// sessionStorage when one was given (loopback needs none).
const TOKEN_KEY = 'seer.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class APIError extends Error {
  constructor(status, msg) {
    super(msg);
    this.status = status;
  }
}

export async function api(path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const init = { method: opts.method || 'GET', headers };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(path, init);
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) throw new APIError(res.status, (body && body.error) || res.statusText);
  return body;
}
