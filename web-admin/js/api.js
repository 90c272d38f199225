// The one way the console talks to the box: credentials included, the CSRF token on every
// state-changing request, and RFC 9457 problem documents turned into ApiError.
let csrfToken = '';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
  // Per-field errors ({pointer, detail}) of a 400 problem.
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

export function setCsrf(token) {
  csrfToken = token || '';
}

async function call(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : {detail: data});
  return data;
}

// Uploads a file as the raw request body (plugin-set archives).
async function upload(path, file, type) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {'Content-Type': type, 'X-CSRF-Token': csrfToken, Accept: 'application/json'},
    body: file,
  });
  const data = await res.json();
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  upload,
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
  put: (path, body = {}) => call('PUT', path, body),
  patch: (path, body = {}) => call('PATCH', path, body),
  del: (path) => call('DELETE', path),
};
