// The API client: JSON over fetch to /api/, the bearer token kept for the tab, and the API's
// error envelope turned into one `ApiError` with a message fit to show next to the rack.

const TOKEN_KEY = 'homerack.token';

export class ApiError extends Error {
  constructor(status, message, fieldErrors = [], code = '') {
    super(message);
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (value) => value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY),
};

/** Listeners told about every 401 (the sign-in field shows the message). */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) { unauthorizedListeners.add(fn); }

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function waitMs(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

/**
 * Calls the API. `path` is relative to /api (e.g. `/racks`); `body` is sent as JSON unless it
 * is FormData. Resolves to the parsed JSON (null for 204); rejects with ApiError.
 * A read refused by the edge's rate limit (429) is retried after Retry-After, at most twice.
 */
export async function api(method, path, body, attempt = 0) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    if (body instanceof FormData) init.body = body;
    else { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  }
  const bearer = token.get();
  if (bearer && WRITE.has(method)) headers.Authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch(`/api${path}`, init);
  } catch (err) {
    throw new ApiError(0, `The server did not answer (${err.message}).`);
  }
  if (response.status === 429 && method === 'GET' && attempt < 2) {
    const seconds = Math.min(Number(response.headers.get('Retry-After')) || 1, 5);
    await waitMs(seconds * 1000);
    return api(method, path, body, attempt + 1);
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const payload = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (response.ok) return payload;
  throw toError(response.status, payload);
}

function toError(status, payload) {
  const envelope = payload && typeof payload === 'object' ? payload.error : null;
  const fieldErrors = envelope?.details?.errors || [];
  let message = envelope?.message || (payload && payload.detail) ||
    (typeof payload === 'string' && payload.trim()) || `HTTP ${status}`;
  if (status === 401) {
    message = token.get()
      ? 'The API refused the token: sign in again with a valid token to make changes.'
      : 'Changes need an API token on this server: enter it in the "API token" field at the top.';
    for (const fn of unauthorizedListeners) fn(message);
  } else if (status === 429) {
    message = 'Too many requests at once: wait a second and try again.';
  } else if (fieldErrors.length) {
    message = `${message}: ${fieldErrors.map((e) => `${e.field ? e.field + ' – ' : ''}${e.message}`).join('; ')}`;
  }
  return new ApiError(status, message, fieldErrors, envelope?.code || '');
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
