// Console page "Remisser": outgoing and incoming referrals with status and age, the form to
// write and send a referral, a referral's printable view (the paper fallback) and the form to
// answer an incoming one; an outgoing one is completed (KOM) or cancelled (AVB) from its view.
import {formatPnr} from '/js/dom.js';

const strings = {
  title: 'Remisser',
  outgoing: 'Utgående',
  incoming: 'Inkommande',
  overdue: 'Försenade',
  write: 'Skriv remiss',
  none: 'Inga remisser.',
  patient: 'Patient (personnummer eller samordningsnummer)',
  receiver: 'Mottagare',
  priority: 'Prioritet',
  priorities: {normal: 'Normal', akut: 'Akut'},
  question: 'Frågeställning',
  anamnesis: 'Anamnes',
  status: 'Aktuellt status',
  requested: 'Önskad undersökning eller åtgärd',
  informed: 'Patienten är informerad om remissen',
  attachment: 'Bilaga (PDF, JPEG eller PNG)',
  saveDraft: 'Spara utkast',
  send: 'Skicka',
  saved: 'Utkastet är sparat.',
  sentOk: 'Remissen är skickad.',
  open: 'Visa',
  print: 'Skriv ut',
  back: 'Tillbaka',
  answer: 'Svara',
  answerCode: 'Svar',
  answerText: 'Text (skäl, fråga eller utlåtande)',
  forwardTo: 'Vidarebefordra till',
  answered: 'Svaret är skickat.',
  invite: 'Kalla patienten',
  invited: 'Kallelsen är skickad.',
  inviteVisitType: 'Besökstyp för kallelsen (kod i Tidbokning)',
  invitePhone: 'Patientens mobilnummer',
  inviteEmail: 'eller e-post',
  age: 'Ålder',
  state: 'Remissens läge',
  from: 'Från',
  to: 'Till',
  one: 'Remiss',
  requestId: 'Remissens id',
  days: (n) => (n === 1 ? '1 dag' : `${n} dagar`),
  hours: (n) => `${n} tim`,
  answers: 'Svar',
  attachments: 'Bilagor',
  failed: 'Det gick inte:',
  complete: 'Komplettera',
  completeTitle: 'Komplettera remissen',
  cancel: 'Avbryt remissen',
  cancelReason: 'Skäl till att remissen avbryts',
  cancelled: 'Remissen är avbruten.',
  states: {
    draft: 'Utkast', sending: 'Skickas', sent: 'Skickad', BEK: 'Bekräftad', VID: 'Vidarebefordrad',
    KOM: 'Komplettering begärd', AVB: 'Avbruten', AVV: 'Avvisad', DSV: 'Delsvar', PSV: 'Preliminärt svar', SSV: 'Slutsvar',
  },
  codes: {
    BEK: 'Bekräfta (BEK)', AVV: 'Avvisa (AVV)', VID: 'Vidarebefordra (VID)', KOM: 'Begär komplettering (KOM)',
    DSV: 'Delsvar (DSV)', PSV: 'Preliminärt svar (PSV)', SSV: 'Slutsvar (SSV)',
  },
};

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function field(label, input) {
  const l = el('label', `${label} `);
  l.append(input);
  const p = el('p');
  p.append(l);
  return p;
}

function input(type, name) {
  const i = type === 'textarea' ? el('textarea') : el('input');
  if (type !== 'textarea') i.type = type;
  i.name = name;
  return i;
}

function age(createdAt, now) {
  const h = Math.max(0, Math.floor((now - createdAt) / 3600));
  return h < 24 ? strings.hours(h) : strings.days(Math.floor(h / 24));
}

function button(text, onClick) {
  const b = el('button', text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function base64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(',')[1] || '');
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export default async function render(root, api) {
  const message = el('p', '');
  message.setAttribute('role', 'status');
  const body = el('div');
  const tabs = el('nav');
  root.replaceChildren(el('h1', strings.title), tabs, message, body);

  // The latest of list, show and writeForm owns the body: one whose data arrives after the
  // user moved on (clicked a row while the list reloaded) drops its result instead of
  // replacing the newer view.
  let turn = 0;
  const begin = () => {
    const mine = ++turn;
    return () => mine === turn;
  };

  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      message.textContent = `${strings.failed} ${err.message}`;
    }
  }

  async function list(kind) {
    message.textContent = '';
    const path = kind === 'overdue' ? '/api/v1/referral/overdue' : `/api/v1/referral/${kind}`;
    const current = begin();
    const data = await api.get(path);
    if (!current()) return;
    const now = data.now || Math.floor(Date.now() / 1000);
    if (!data.items.length) {
      body.replaceChildren(el('p', strings.none));
      return;
    }
    const table = el('table');
    table.dataset.list = kind;
    const head = el('tr');
    for (const h of [strings.patient.split(' ')[0], kind === 'incoming' ? strings.from : strings.to, strings.priority, strings.state, strings.age, ''])
      head.append(el('th', h));
    table.append(head);
    for (const r of data.items) {
      const tr = el('tr');
      tr.dataset.id = r.id;
      tr.append(el('td', r.patient_masked), el('td', kind === 'incoming' ? (r.sender_unit_name || r.sender_unit) : r.receiver_hsa),
        el('td', strings.priorities[r.priority] || r.priority), el('td', strings.states[r.state] || r.state),
        el('td', age(r.created_at, now)));
      const actions = el('td');
      actions.append(button(strings.open, () => act(() => show(r.id))));
      tr.append(actions);
      table.append(tr);
    }
    body.replaceChildren(table);
  }

  // A new referral, or (given `existing`, state KOM) the completion of one the receiver asked
  // to complete: saved with PATCH and sent again as the next version.
  async function writeForm(existing) {
    message.textContent = '';
    const current = begin();
    const receivers = (await api.get('/api/v1/referral/receivers')).items.filter((r) => r.supported);
    if (!current()) return;
    const form = el('form');
    const patient = input('text', 'patient');
    const receiver = el('select');
    receiver.name = 'receiver_hsa';
    for (const r of receivers) {
      const o = el('option', `${r.name} (${r.hsa_id})`);
      o.value = r.hsa_id;
      receiver.append(o);
    }
    const priority = el('select');
    priority.name = 'priority';
    for (const [k, v] of Object.entries(strings.priorities)) {
      const o = el('option', v);
      o.value = k;
      priority.append(o);
    }
    const question = input('textarea', 'question');
    const anamnesis = input('textarea', 'anamnesis');
    const status = input('textarea', 'status');
    const requested = input('textarea', 'requested');
    const informed = input('checkbox', 'patient_informed');
    const file = input('file', 'attachment');
    file.accept = 'application/pdf,image/jpeg,image/png';
    let id = null;
    if (existing) {
      id = existing.id;
      patient.value = existing.patient;
      receiver.value = existing.receiver_hsa;
      priority.value = existing.priority;
      question.value = existing.question;
      anamnesis.value = existing.anamnesis;
      status.value = existing.status;
      requested.value = existing.requested;
      informed.checked = existing.patient_informed;
    }
    async function save() {
      const payload = {
        patient: patient.value, receiver_hsa: receiver.value, priority: priority.value, question: question.value,
        anamnesis: anamnesis.value, status: status.value, requested: requested.value, patient_informed: informed.checked,
      };
      if (id === null) {
        id = (await api.post('/api/v1/referral/referrals', payload)).id;
      } else {
        await api.patch(`/api/v1/referral/referrals/${encodeURIComponent(id)}`, payload);
      }
      for (const f of file.files) {
        await api.post(`/api/v1/referral/referrals/${encodeURIComponent(id)}/attachments`, {name: f.name, content_base64: await base64(f)});
      }
      file.value = '';
    }
    form.append(field(strings.patient, patient), field(strings.receiver, receiver), field(strings.priority, priority),
      field(strings.question, question), field(strings.anamnesis, anamnesis), field(strings.status, status),
      field(strings.requested, requested), field(strings.informed, informed), field(strings.attachment, file),
      button(strings.saveDraft, () => act(async () => { await save(); message.textContent = strings.saved; })),
      button(strings.send, () => act(async () => {
        await save();
        await api.post(`/api/v1/referral/referrals/${encodeURIComponent(id)}/send`);
        message.textContent = strings.sentOk;
        await list('outgoing');
      })));
    body.replaceChildren(el('h2', existing ? strings.completeTitle : strings.write), form);
  }

  async function show(id) {
    const current = begin();
    const r = await api.get(`/api/v1/referral/referrals/${encodeURIComponent(id)}`);
    // The receiver by name where the directory knows it (the referral holds its HSA-id).
    const directory = await api.get('/api/v1/referral/receivers').catch(() => ({items: []}));
    if (!current()) return;
    const receiver = (directory.items || []).find((x) => x.hsa_id === r.receiver_hsa);
    const to = receiver ? `${receiver.name} (${r.receiver_hsa})` : r.receiver_hsa;
    const view = el('article', undefined, 'printable');
    const dl = el('dl');
    const rows = [
      [strings.patient.split(' ')[0], formatPnr(r.patient)], [strings.from, `${r.sender_unit_name} (${r.sender_unit}) ${r.practitioner_name}`],
      [strings.to, to], [strings.priority, strings.priorities[r.priority] || r.priority],
      [strings.state, strings.states[r.state] || r.state], [strings.question, r.question], [strings.anamnesis, r.anamnesis],
      [strings.status, r.status], [strings.requested, r.requested], [strings.informed, r.patient_informed ? 'Ja' : 'Nej'],
      [strings.requestId, r.request_id],
    ];
    for (const [k, v] of rows) dl.append(el('dt', k), el('dd', v));
    view.append(el('h2', `${strings.one}: ${r.sender_unit_name} → ${receiver ? receiver.name : r.receiver_hsa}`), dl);
    if (r.attachments.length) {
      const ul = el('ul');
      for (const a of r.attachments) ul.append(el('li', `${a.name} (${a.media_type})`));
      view.append(el('h3', strings.attachments), ul);
    }
    if (r.answers.length) {
      const ol = el('ol');
      for (const a of r.answers) ol.append(el('li', `${strings.states[a.code] || a.code}: ${a.text}${a.forward_to ? ` → ${a.forward_to}` : ''}`));
      view.append(el('h3', strings.answers), ol);
    }
    const controls = el('div', undefined, 'no-print');
    controls.append(button(strings.back, () => act(() => list(r.direction === 'in' ? 'incoming' : 'outgoing'))),
      button(strings.print, () => window.print()));
    if (r.direction === 'in') controls.append(answerForm(r));
    if (r.direction === 'out' && r.state === 'KOM') controls.append(button(strings.complete, () => act(() => writeForm(r))));
    if (r.direction === 'out' && ['sent', 'BEK', 'VID', 'KOM'].includes(r.state)) controls.append(cancelForm(r));
    body.replaceChildren(view, controls);
  }

  function cancelForm(r) {
    const form = el('form');
    const reason = input('textarea', 'cancel_text');
    form.append(el('h3', strings.cancel), field(strings.cancelReason, reason),
      button(strings.cancel, () => act(async () => {
        await api.post(`/api/v1/referral/referrals/${encodeURIComponent(r.id)}/cancel`, {text: reason.value});
        await show(r.id);
        message.textContent = strings.cancelled;
      })));
    return form;
  }

  function answerForm(r) {
    const form = el('form');
    const code = el('select');
    code.name = 'code';
    for (const [k, v] of Object.entries(strings.codes)) {
      const o = el('option', v);
      o.value = k;
      code.append(o);
    }
    const text = input('textarea', 'text');
    const forward = input('text', 'forward_to');
    const visitType = input('text', 'visit_type');
    const phone = input('tel', 'phone');
    const email = input('email', 'email');
    form.append(el('h3', strings.answer), field(strings.answerCode, code), field(strings.answerText, text),
      field(strings.forwardTo, forward),
      button(strings.answer, () => act(async () => {
        const payload = {code: code.value};
        if (text.value) payload.text = text.value;
        if (code.value === 'VID') payload.forward_to = forward.value;
        await api.post(`/api/v1/referral/referrals/${encodeURIComponent(r.id)}/answer`, payload);
        await show(r.id);
        message.textContent = strings.answered;
      })),
      el('h3', strings.invite), field(strings.inviteVisitType, visitType), field(strings.invitePhone, phone),
      field(strings.inviteEmail, email),
      button(strings.invite, () => act(async () => {
        const payload = {visit_type: visitType.value};
        if (phone.value) payload.phone = phone.value;
        if (email.value) payload.email = email.value;
        await api.post(`/api/v1/referral/referrals/${encodeURIComponent(r.id)}/invitation`, payload);
        message.textContent = strings.invited;
      })));
    return form;
  }

  tabs.append(button(strings.outgoing, () => act(() => list('outgoing'))),
    button(strings.incoming, () => act(() => list('incoming'))),
    button(strings.overdue, () => act(() => list('overdue'))),
    button(strings.write, () => act(() => writeForm())));
  await act(() => list('outgoing'));
}
