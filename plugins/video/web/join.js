// The patient's join page: identify with BankID, wait in the lobby until the practitioner
// lets you in, then go to the meeting. The join token comes from the link's fragment
// (#t=...), which browsers never send to a server; nothing else about the patient is known
// to this page until the identification succeeded.
const strings = {
  loading: 'Laddar …',
  noToken: 'Länken är ofullständig. Använd hela länken från din kallelse.',
  ready: 'Legitimera dig med BankID för att komma till väntrummet.',
  identifying: 'Legitimera dig i BankID-appen …',
  waiting: 'Du är legitimerad. Väntar på att vårdgivaren släpper in dig.',
  admitted: 'Vårdgivaren har släppt in dig. Gå till videomötet.',
  refused: 'Legitimeringen gällde inte den person som besöket är bokat för. Kontakta mottagningen.',
  failed: 'Legitimeringen avbröts eller misslyckades. Försök igen.',
  error: 'Något gick fel. Försök igen om en stund.',
  unavailable: 'Legitimering är inte tillgänglig just nu. Kontakta mottagningen.',
  reasons: {
    'not-yet-valid': 'Länken fungerar först strax före besökstiden. Välkommen tillbaka då.',
    expired: 'Besökstiden har passerat och länken fungerar inte längre.',
    revoked: 'Besöket är avbokat.',
    superseded: 'Besöket har bokats om. Använd länken i din nya kallelse.',
    session: 'Legitimera dig igen från den här webbläsaren.',
  },
  invalidLink: 'Länken är ogiltig.',
  start: 'Starttid',
  unit: 'Mottagning',
  practitioner: 'Vårdgivare',
};

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get('t') || '';
let session = '';
let timer = null;

function show(text) {
  $('status').textContent = text;
}

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', Accept: 'application/json'},
    credentials: 'omit',
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.detail || `HTTP ${res.status}`);
    err.status = res.status;
    err.reason = data.reason;
    throw err;
  }
  return data;
}

function explain(err) {
  if (err.reason && strings.reasons[err.reason]) return strings.reasons[err.reason];
  if (err.status === 403) return strings.invalidLink;
  if (err.status === 502 || err.status === 503) return strings.unavailable;
  return strings.error;
}

function showVisit(visit) {
  const dl = $('visit');
  if (!visit) return;
  const rows = [
    [strings.start, visit.start.replace('T', ' ').slice(0, 16)],
    [strings.unit, visit.care_unit_name],
    [strings.practitioner, visit.practitioner_name],
  ];
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (!v) continue;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  dl.hidden = false;
}

function stop() {
  if (timer) clearTimeout(timer);
  timer = null;
}

async function poll() {
  try {
    const s = await post('/api/v1/video/patient/status', {token, session});
    showVisit(s.visit);
    if (s.state === 'identifying') {
      show(strings.identifying);
    } else if (s.state === 'waiting') {
      $('bankid').hidden = true;
      show(strings.waiting);
    } else if (s.state === 'admitted' && s.join_url) {
      stop();
      show(strings.admitted);
      const a = $('meeting');
      a.href = s.join_url;
      a.rel = 'noreferrer';
      a.hidden = false;
      return;
    } else if (s.state === 'refused') {
      stop();
      $('bankid').hidden = true;
      show(strings.refused);
      return;
    } else {
      stop();
      $('bankid').hidden = true;
      $('identify').hidden = false;
      show(strings.failed);
      return;
    }
    timer = setTimeout(poll, 2000);
  } catch (err) {
    stop();
    $('bankid').hidden = true;
    show(explain(err));
  }
}

async function identify() {
  $('identify').hidden = true;
  show(strings.identifying);
  try {
    const r = await post('/api/v1/video/patient/identify', {token});
    session = r.session;
    if (r.auto_start_token) {
      const a = $('bankid');
      a.href = `bankid:///?autostarttoken=${encodeURIComponent(r.auto_start_token)}&redirect=null`;
      a.hidden = false;
    }
    timer = setTimeout(poll, 1000);
  } catch (err) {
    show(explain(err));
    if (!err.reason) $('identify').hidden = false;
  }
}

function main() {
  if (!token) {
    show(strings.noToken);
    return;
  }
  // Drop the token from the address bar so it is not left in screenshots or history.
  history.replaceState(null, '', location.pathname);
  show(strings.ready);
  $('identify').hidden = false;
  $('identify').addEventListener('click', identify);
}

main();
