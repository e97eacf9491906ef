// The HTTP API client. A browser session sends its cookie and, on unsafe
// methods, the CSRF token the login returned. An API token (for servers
// without user accounts, and for automation) is sent as a bearer token
// instead and lives only in this tab's sessionStorage.

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Every permission, in the order GET /me lists them; an administrator's API
// token on a server without /me is granted all of them.
export const ALL_PERMISSIONS = [
  'read_tickets', 'assign', 'note', 'resolve', 'reply', 'read_mentions', 'search',
  'read_alerts', 'ack_alerts', 'read_kpis', 'read_offers', 'manage_offers',
  'manage_rules', 'manage_sources', 'manage_users', 'ingest', 'erase',
];

let csrf = localStorage.getItem('vigie.csrf') || '';
let token = sessionStorage.getItem('vigie.token') || '';
let onUnauthorized = () => {};

export function setUnauthorizedHandler(f) { onUnauthorized = f; }
export function bearerToken() { return token; }

function safe(method) { return method === 'GET' || method === 'HEAD'; }

export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  else if (!safe(method) && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new APIError(0, e.message || 'network error');
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) {
    const err = new APIError(r.status, (data && data.error) || r.statusText || `HTTP ${r.status}`);
    // A session without its CSRF token (storage cleared, another browser
    // profile) cannot change anything: log in again to get one.
    const csrfLost = r.status === 403 && !token && /csrf/i.test(err.message);
    if ((r.status === 401 || csrfLost) && !quiet401) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

// qs builds a query string from the non-empty values of params.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// login opens a browser session. A server without user accounts answers
// 404 (or 405): the caller then offers the API-token form.
export async function login(user, password) {
  const res = await api('POST', '/login', { user, password }, { quiet401: true });
  csrf = res.csrf_token || '';
  localStorage.setItem('vigie.csrf', csrf);
  token = '';
  sessionStorage.removeItem('vigie.token');
  return res;
}

export async function loginWithToken(tok) {
  token = tok.trim();
  sessionStorage.setItem('vigie.token', token);
  try {
    return await me();
  } catch (e) {
    token = '';
    sessionStorage.removeItem('vigie.token');
    throw e;
  }
}

// me returns {user, role, permissions}. A server that has no /me yet only
// knows the administrator's token: it then stands for an administrator.
export async function me() {
  try {
    const m = await get('/me', { quiet401: true });
    if (m.csrf_token) {
      csrf = m.csrf_token;
      localStorage.setItem('vigie.csrf', csrf);
    }
    return m;
  } catch (e) {
    if (e.status === 404 && token) {
      await get('/queues', { quiet401: true }); // proves the token
      return { user: 'admin-token', role: 'admin', permissions: ALL_PERMISSIONS, via: 'admin_token' };
    }
    throw e;
  }
}

export async function logout() {
  try {
    if (!token) await api('POST', '/logout', undefined, { quiet401: true });
  } catch { /* the session is gone either way */ }
  csrf = '';
  token = '';
  localStorage.removeItem('vigie.csrf');
  sessionStorage.removeItem('vigie.token');
}

// missing reports whether an error says the endpoint is not served here: a
// 404, or the 403 a server answers for a path no route of it matches when
// a catch-all guard of another group runs first. Pages use it to tell "this
// server has no such feature yet" from a real failure.
export function missing(err) {
  return err && (err.status === 404 || err.status === 403 || err.status === 405);
}
