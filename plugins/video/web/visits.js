// Console page "Videobesök": today's video visits with their lobby state; staff copy the
// patient's link, admit an identified patient and join the meeting themselves.
import {boxDay} from '/js/dom.js';

const strings = {
  title: 'Videobesök',
  date: 'Datum',
  none: 'Inga videobesök den här dagen.',
  time: 'Tid',
  patient: 'Patient',
  practitioner: 'Vårdgivare',
  visitType: 'Besökstyp',
  lobby: 'Väntrum',
  actions: 'Åtgärder',
  admit: 'Släpp in',
  join: 'Anslut',
  copy: 'Kopiera patientlänk',
  copied: 'Patientlänken är kopierad.',
  refresh: 'Uppdatera',
  lobbyStates: {
    empty: 'Ingen patient ännu',
    identifying: 'Patienten legitimerar sig',
    waiting: 'Legitimerad – väntar',
    admitted: 'Insläppt',
    refused: 'Fel person legitimerade sig',
  },
  notConfiguredMeetings: 'Videomötesservern är inte inställd (en administratör anger den under Tillägg, Videobesök). Inga möteslänkar kan skapas.',
  notConfiguredIdp: 'Legitimering är inte inställd (idp). Patienter kan inte legitimera sig.',
  failed: 'Det gick inte:',
};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}


export default async function render(root, api) {
  let timer = null;
  const heading = el('h1', strings.title);
  const dateInput = el('input');
  dateInput.type = 'date';
  dateInput.value = boxDay();
  const dateLabel = el('label', `${strings.date} `);
  dateLabel.append(dateInput);
  const refresh = el('button', strings.refresh);
  refresh.type = 'button';
  const message = el('p', '');
  message.setAttribute('role', 'status');
  const body = el('div');
  root.replaceChildren(heading, dateLabel, refresh, message, body);

  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      message.textContent = `${strings.failed} ${err.message}`;
    }
    await load();
  }

  async function load() {
    if (!root.isConnected) {
      clearTimeout(timer);
      return;
    }
    const data = await api.get(`/api/v1/video/visits?date=${encodeURIComponent(dateInput.value)}`);
    // The list is drawn again every 5 seconds: the button that had the keyboard focus gets it
    // back (a keyboard user tabbing to "Släpp in" lost it to the page at each refresh).
    const focused = body.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
    const notes = [];
    if (!data.meetings_configured) notes.push(el('p', strings.notConfiguredMeetings, 'warning'));
    if (!data.identification_configured) notes.push(el('p', strings.notConfiguredIdp, 'warning'));
    if (!data.visits.length) {
      body.replaceChildren(...notes, el('p', strings.none));
    } else {
      const table = el('table');
      const head = el('tr');
      for (const h of [strings.time, strings.patient, strings.practitioner, strings.visitType, strings.lobby, strings.actions])
        head.append(el('th', h));
      table.append(head);
      for (const v of data.visits) {
        const tr = el('tr');
        const patient = v.identified_name ? `${v.patient} (${v.identified_name})` : v.patient;
        tr.append(el('td', `${v.start.slice(11, 16)}–${v.end.slice(11, 16)}`), el('td', patient),
          el('td', v.practitioner_name), el('td', v.visit_type_name),
          el('td', strings.lobbyStates[v.lobby] || v.lobby));
        const actions = el('td');
        if (v.lobby === 'waiting') {
          const b = el('button', strings.admit);
          b.type = 'button';
          b.dataset.key = `${v.booking_id}:admit`;
          b.addEventListener('click', () => act(() => api.post(`/api/v1/video/bookings/${encodeURIComponent(v.booking_id)}/admit`)));
          actions.append(b);
        }
        const join = el('button', strings.join);
        join.type = 'button';
        join.dataset.key = `${v.booking_id}:join`;
        join.addEventListener('click', () => act(async () => {
          const links = await api.get(`/api/v1/video/bookings/${encodeURIComponent(v.booking_id)}/links`);
          const r = await api.post('/api/v1/video/practitioner/join', {token: links.practitioner_token});
          window.open(r.join_url, '_blank', 'noopener,noreferrer');
        }));
        const copy = el('button', strings.copy);
        copy.type = 'button';
        copy.dataset.key = `${v.booking_id}:copy`;
        copy.addEventListener('click', () => act(async () => {
          const links = await api.get(`/api/v1/video/bookings/${encodeURIComponent(v.booking_id)}/links`);
          await navigator.clipboard.writeText(links.patient_join_url);
          message.textContent = strings.copied;
        }));
        actions.append(join, copy);
        tr.append(actions);
        table.append(tr);
      }
      body.replaceChildren(...notes, table);
    }
    if (focused) {
      const again = [...body.querySelectorAll('button')].find((b) => b.dataset.key === focused);
      if (again) again.focus();
    }
    clearTimeout(timer);
    timer = setTimeout(() => load().catch(() => {}), 5000);
  }

  refresh.addEventListener('click', () => load().catch((e) => { message.textContent = `${strings.failed} ${e.message}`; }));
  dateInput.addEventListener('change', () => load().catch(() => {}));
  await load();
}
