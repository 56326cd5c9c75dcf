// api — the JSON API over fetch, with the session cookie and its CSRF token.

let csrf = sessionStorage.getItem('periscope.csrf');
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function setCsrf(token) {
  csrf = token || null;
  if (csrf) sessionStorage.setItem('periscope.csrf', csrf);
  else sessionStorage.removeItem('periscope.csrf');
}

export function whenUnauthorized(fn) { onUnauthorized = fn; }

// body: an object (sent as JSON), a string (sent as text/plain) or undefined.
export async function api(method, path, body, {quiet401 = false} = {}) {
  const headers = {Accept: 'application/json'};
  let payload;
  if (typeof body === 'string') {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {method, headers, body: payload, credentials: 'same-origin'});
  const text = r.status === 204 ? '' : await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    if (r.status === 401 && !quiet401 && onUnauthorized) onUnauthorized();
    const e = data && data.error;
    throw new ApiError(r.status, e && e.code, (e && e.message) || `${r.status} ${r.statusText}`, data);
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

export const P = (id) => `/api/admin/projects/${encodeURIComponent(id)}`;
