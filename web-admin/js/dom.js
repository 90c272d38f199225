// Small DOM helpers: elements are built with textContent only (never innerHTML), so no
// text from the box or a user can become markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let fieldCounter = 0;
// A labelled input with a place for its inline error.
export function field(label, input, hint) {
  const id = input.id || `f${++fieldCounter}`;
  input.id = id;
  const err = h('p', {class: 'field-error', id: `${id}-err`, hidden: true});
  input.setAttribute('aria-describedby', `${id}-err`);
  const wrap = h('div', {class: 'field'}, h('label', {for: id}, label), input, hint ? h('p', {class: 'hint'}, hint) : null, err);
  wrap.setError = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  };
  return wrap;
}

export function announce(msg) {
  const s = document.getElementById('status');
  if (s) {
    s.textContent = '';
    setTimeout(() => { s.textContent = msg; }, 30);
  }
}

export function errorBox(message) {
  return h('div', {class: 'error', role: 'alert'}, message);
}

export function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows));
}

// The box's time zone (box.timezone, from the session); Swedish time until the session says.
// Days and times on every page are the box's: a PC whose clock is set to another zone still
// shows the clinic's today and the clinic's hours.
let boxZone = 'Europe/Stockholm';
export function setBoxTimeZone(zone) {
  if (!zone) return;
  try {
    new Intl.DateTimeFormat('sv-SE', {timeZone: zone});  // throws for a zone the browser lacks
    boxZone = zone;
  } catch {
    // keep Swedish time
  }
}

// The day (YYYY-MM-DD) of a moment, default now, in the box's time zone.
export function boxDay(d = new Date()) {
  return d.toLocaleDateString('sv-SE', {timeZone: boxZone});
}

// A personnummer (or samordningsnummer) as people read it: 19121212-1212; anything else as given.
export function formatPnr(p) {
  return /^\d{12}$/.test(p || '') ? `${p.slice(0, 8)}-${p.slice(8)}` : (p ?? '');
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString('sv-SE', {timeZone: boxZone});
}
