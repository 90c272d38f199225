// Console page "Loggkontroll" (auditor): the period's accesses without a booking, emergency
// accesses, a random sample and refusals, each markable as reviewed with a comment; and the
// patient's log extract as a list and a printable page.
import {strings as s} from './strings.js';
import {boxDay} from '/js/dom.js';

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function input(type, name, value = '') {
  const i = el('input');
  i.type = type;
  i.name = name;
  i.value = value;
  return i;
}
function labelled(text, i) {
  const l = el('label', `${text} `);
  l.append(i);
  return l;
}
function button(text, onClick) {
  const b = el('button', text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export default async function render(root, api) {
  // This month so far, in the box's days (the days the review counts).
  const today = boxDay();
  const from = input('date', 'from', `${today.slice(0, 8)}01`);
  const to = input('date', 'to', today);
  const message = el('p', '');
  message.setAttribute('role', 'status');
  const lists = el('div');
  const pnr = input('text', 'extract_patient');
  const extract = el('div');
  root.replaceChildren(el('h1', s.reviewTitle), message, labelled(s.from, from), labelled(s.to, to),
    button(s.show, () => load().catch((e) => { message.textContent = `${s.failed} ${e.message}`; })), lists,
    el('h2', s.extractHeading), labelled(s.patient, pnr), button(s.extractJson, () => showExtract()), extract);

  function table(rows) {
    const t = el('table');
    const head = el('tr');
    for (const h of [s.when, s.user, s.unit, s.patient, s.what, s.reviewed, s.comment]) head.append(el('th', h));
    t.append(head);
    for (const r of rows) {
      const tr = el('tr');
      const pnr = /^\d{12}$/.test(r.patient || '') ? `${r.patient.slice(0, 8)}-${r.patient.slice(8)}` : r.patient;
      const what = [s.reviewWhat[r.what] || r.what, r.basis ? (s.reviewBasis[r.basis] || r.basis) : ''].filter(Boolean).join(' ');
      tr.append(el('td', r.at), el('td', r.username), el('td', r.care_unit_name || r.care_unit), el('td', pnr),
        el('td', what), el('td', r.reviewed ? `${s.yes} (${r.reviewed_by})` : s.no));
      const td = el('td');
      if (r.reviewed) {
        td.textContent = r.review_comment;
      } else {
        const c = input('text', `comment-${r.id}`);
        c.setAttribute('aria-label', s.commentFor.replace('{when}', r.at).replace('{user}', r.username));
        td.append(c, button(s.markReviewed, async () => {
          try {
            await api.post(`/api/v1/journal/review/${r.id}`, {comment: c.value});
            await load();
          } catch (e) { message.textContent = `${s.failed} ${e.message}`; }
        }));
      }
      tr.append(td);
      t.append(tr);
    }
    return t;
  }

  async function load() {
    const q = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
    const d = await api.get(`/api/v1/journal/review?${q}`);
    lists.replaceChildren(el('h2', s.withoutBooking), table(d.without_booking), el('h2', s.emergency), table(d.emergency),
      el('h2', s.sample), table(d.sample), el('h2', s.refused), table(d.refused));
  }

  async function showExtract() {
    message.textContent = '';
    try {
      const p = pnr.value.replace(/\s/g, '');
      const q = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
      const d = await api.get(`/api/v1/journal/extract/${encodeURIComponent(p)}?${q}`);
      const list = el('ul', undefined, 'extract');
      for (const a of d.accesses) list.append(el('li', `${a.at} – ${a.care_unit_name} (${a.care_unit}) – ${a.what} – ${a.basis}`));
      const link = el('a', s.extractPrint);
      link.href = `/api/v1/journal/extract/${encodeURIComponent(p)}/print?${q}`;
      link.target = '_blank';
      link.rel = 'noopener';
      extract.replaceChildren(d.accesses.length ? list : el('p', s.extractNone), link);
    } catch (e) {
      message.textContent = `${s.failed} ${e.message}`;
    }
  }

  await load();
}
