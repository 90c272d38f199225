// Shared by the patient's pages: JSON calls without a session, and times in Swedish.
export async function post(path, body) {
  const res = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json', Accept: 'application/json'},
    body: JSON.stringify(body), credentials: 'omit'});
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(data.title || `HTTP ${res.status}`);
  return data;
}

export function when(iso) {
  return new Date(iso).toLocaleString('sv-SE', {weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit',
    timeZone: 'Europe/Stockholm'});
}
