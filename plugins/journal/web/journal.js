// Console page "Sammanhållen journal": choose the assignment, open a patient, see the
// access-control state, register a relation, consent or emergency access, and read other
// providers' notes, diagnoses and alerts once the box's checks pass. The box decides;
// this page only shows what it answers.
import {strings as s} from './strings.js';

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function button(text, onClick) {
  const b = el('button', text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}
function labelled(text, input) {
  const l = el('label', `${text} `);
  l.append(input);
  return l;
}
function input(type, name) {
  const i = el('input');
  i.type = type;
  i.name = name;
  return i;
}

// The note as the box rendered it (DocBook.cpp): text leaves and a few tags of its own,
// built with createElement/textContent so no producer text becomes markup.
const allowedTags = new Set(['p', 'h4', 'div', 'em', 'ul', 'ol', 'li', 'br']);
function build(node) {
  if (typeof node === 'string') return document.createTextNode(node);
  const e = document.createElement(allowedTags.has(node.tag) ? node.tag : 'span');
  for (const c of node.children || []) e.append(build(c));
  return e;
}

export default async function render(root, api) {
  const message = el('p', '');
  message.setAttribute('role', 'status');
  const assignmentBox = el('section');
  const patientBox = el('section');
  const recordsBox = el('section');
  root.replaceChildren(el('h1', s.title), message, assignmentBox, patientBox, recordsBox);
  let patient = '';

  async function act(fn) {
    message.textContent = '';
    try {
      await fn();
    } catch (err) {
      message.textContent = `${s.failed} ${err.message}`;
    }
  }

  async function loadAssignment() {
    const a = await api.get('/api/v1/journal/assignment');
    const select = el('select');
    select.name = 'care_unit';
    for (const u of a.units) {
      const o = el('option', u.name);
      o.value = u.hsa_id;
      if (a.assignment && a.assignment.care_unit === u.hsa_id) o.selected = true;
      select.append(o);
    }
    const parts = [el('h2', s.assignmentHeading), el('p', s.assignmentHelp), labelled(s.unit, select),
      el('p', `${s.purpose}: ${a.purpose}`),
      button(s.choose, () => act(async () => {
        await api.put('/api/v1/journal/assignment', {care_unit: select.value});
        await loadAssignment();
      }))];
    if (!a.has_hsa_id) parts.push(el('p', s.noHsa, 'warning'));
    assignmentBox.replaceChildren(...parts);
    patientBox.hidden = !a.assignment;
  }

  const pnr = input('text', 'patient');
  pnr.autocomplete = 'off';
  const state = el('div');
  patientBox.replaceChildren(el('h2', s.accessHeading), labelled(s.patient, pnr),
    button(s.open, () => act(async () => {
      patient = pnr.value.replace(/\s/g, '');
      await loadPatient();
    })), state);

  async function loadPatient() {
    const st = await api.get(`/api/v1/journal/patients/${encodeURIComponent(patient)}`);
    const parts = [el('p', `${s.relation}: ${s.relations[st.relation] || st.relation}`)];
    if (st.emergency_until) {
      const red = el('p', `${s.emergencyActive} ${st.emergency_reason}`, 'emergency');
      red.style.color = '#b00000';
      red.style.fontWeight = 'bold';
      parts.push(red);
    }
    if (st.relation === 'none') {
      const reason = input('text', 'relation_reason');
      parts.push(labelled(s.relationReason, reason), button(s.assertRelation, () => act(async () => {
        await api.post(`/api/v1/journal/patients/${encodeURIComponent(patient)}/relation`, {reason: reason.value});
        await loadPatient();
      })));
    }
    const end = input('date', 'consent_end');
    parts.push(el('h3', s.consentHeading), labelled(s.consentEnd, end), button(s.registerConsent, () => act(async () => {
      await api.post(`/api/v1/journal/patients/${encodeURIComponent(patient)}/consent`, end.value ? {end_date: end.value} : {});
      message.textContent = s.consentRegistered;
    })));
    const why = input('text', 'emergency_reason');
    parts.push(el('h3', s.emergencyHeading), el('p', s.emergencyHelp), labelled(s.emergencyReason, why),
      button(s.registerEmergency, () => act(async () => {
        await api.post(`/api/v1/journal/patients/${encodeURIComponent(patient)}/emergency`, {reason: why.value});
        await loadPatient();
      })));
    state.replaceChildren(...parts);
    const from = input('date', 'from');
    const to = input('date', 'to');
    const provider = input('text', 'provider');
    const out = el('div');
    const kinds = Object.keys(s.kinds).map((k) => button(s.kinds[k], () => act(async () => {
      const q = new URLSearchParams();
      if (from.value && to.value) { q.set('from', from.value); q.set('to', to.value); }
      if (provider.value) q.set('provider', provider.value);
      const qs = q.toString();
      const data = await api.get(`/api/v1/journal/patients/${encodeURIComponent(patient)}/records/${k}${qs ? `?${qs}` : ''}`);
      showRecords(out, data);
    })));
    recordsBox.replaceChildren(labelled(s.from, from), labelled(s.to, to), labelled(s.provider, provider), ...kinds, out);
  }

  function showRecords(out, data) {
    const parts = [];
    const basis = el('p', s.basis[data.basis] || data.basis, data.emergency ? 'emergency' : '');
    if (data.emergency) { basis.style.color = '#b00000'; basis.style.fontWeight = 'bold'; }
    parts.push(basis);
    if (data.blocked_count) parts.push(el('p', `${s.blocked} (${data.blocked_count})`, 'warning blocked'));
    if (data.without_care_unit_count) {
      parts.push(el('p', `${data.without_care_unit_count} ${data.without_care_unit_count === 1 ? s.withoutUnitOne : s.withoutUnit}`));
    }
    parts.push(el('p', `${s.sources}: ${data.sources.map((x) => `${x.logical_address} (${s.sourceStates[x.status] || x.status})`).join(', ')}`));
    if (!data.records.length) parts.push(el('p', s.none));
    // Newest first, whatever order the source systems answered in; NPÖ's times are YYYYMMDD[hhmmss].
    const day = (time) => (/^\d{8}/.test(time || '') ? `${time.slice(0, 4)}-${time.slice(4, 6)}-${time.slice(6, 8)}` : (time || ''));
    const records = [...data.records].sort((a, b) => String(b.time || '').localeCompare(String(a.time || '')));
    for (const r of records) {
      const art = el('article', undefined, 'record');
      art.append(el('h3', `${day(r.time)} ${r.title || r.code}`), el('p', `${r.unit_name} – ${r.author}`));
      if (r.content !== undefined) {
        const div = el('div');
        div.append(...r.content.map(build));
        art.append(div);
      } else {
        art.append(el('p', `${r.code} ${r.text}`));
      }
      parts.push(art);
    }
    out.replaceChildren(...parts);
  }

  await loadAssignment();
}
