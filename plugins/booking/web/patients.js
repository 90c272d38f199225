// Invitations (kallelser), VIP codes and practitioners' calendar feeds.
import {h, field, table, errorBox, formatPnr} from '/js/dom.js';
import {t} from './strings.js';

const input = (attrs = {}) => h('input', {type: 'text', autocomplete: 'off', ...attrs});

export default async function render(root, api) {
  const setup = await api.get('/api/v1/booking/setup');
  const msg = h('div', {'aria-live': 'polite'});
  const ok = (text) => msg.replaceChildren(h('p', {class: 'ok'}, text));
  const fail = (e) => msg.replaceChildren(errorBox(e.message));
  const unitSel = () => h('select', {}, setup.units.map((u) => h('option', {value: u.hsa_id}, u.name)));
  const typeSel = () => h('select', {}, setup.visit_types.map((v) => h('option', {value: v.id}, v.name)));

  // Invitations
  const inv = {patient: input(), unit: unitSel(), visit_type: typeSel(), purpose: input({maxlength: 500}),
    questions: h('textarea', {rows: 3}), kind: h('select', {}, h('option', {value: 'open'}, t('kindOpen')), h('option', {value: 'timed'}, t('kindTimed'))),
    slot_id: input({type: 'number', min: 1}), phone: input({type: 'tel'}), email: input({type: 'email'})};
  const invForm = h('form', {class: 'card'}, h('h2', {}, t('invNew')),
    field(t('pnr'), inv.patient), field(t('unit'), inv.unit), field(t('visitType'), inv.visit_type), field(t('purpose'), inv.purpose),
    field(t('questions'), inv.questions), field(t('kind'), inv.kind), field(t('slotId'), inv.slot_id),
    field(t('phone'), inv.phone), field(t('email'), inv.email), h('button', {type: 'submit'}, t('send')));
  const invList = h('div', {});
  const loadInvitations = async () => {
    if (!setup.units.length) return;
    const data = await api.get(`/api/v1/booking/invitations?unit=${encodeURIComponent(inv.unit.value)}`);
    invList.replaceChildren(data.invitations.length ? table([t('pnr'), t('visitType'), t('purpose'), t('status'), t('answers')],
      data.invitations.map((i) => h('tr', {}, h('td', {}, formatPnr(i.subject_of_care)), h('td', {}, i.visit_type_name), h('td', {}, i.purpose),
        h('td', {}, i.booking ? `${t(i.booking.status)} ${i.booking.startTimeInclusive.slice(0, 16).replace('T', ' ')}` : t('kindOpen')),
        h('td', {}, (i.answers || []).map((a, n) => h('div', {}, `${i.questions[n]}: ${a}`)))))) : h('p', {}, t('noInvitations')));
  };
  invForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {patient: inv.patient.value.trim(), unit: inv.unit.value, visit_type: inv.visit_type.value, purpose: inv.purpose.value.trim(),
      kind: inv.kind.value, questions: inv.questions.value.split('\n').map((q) => q.trim()).filter(Boolean)};
    if (inv.kind.value === 'timed') body.slot_id = Number(inv.slot_id.value);
    if (inv.phone.value.trim()) body.phone = inv.phone.value.trim();
    if (inv.email.value.trim()) body.email = inv.email.value.trim();
    try {
      const r = await api.post('/api/v1/booking/invitations', body);
      ok(t('invSent', {link: r.link}));
      await loadInvitations();
    } catch (e) {
      fail(e);
    }
  });

  // VIP codes
  const vip = {patient: input(), types: input({placeholder: setup.visit_types.filter((v) => v.vip_bookable).map((v) => v.id).join(',')}),
    max: input({type: 'number', min: 1, max: 10, value: 1}), horizon: input({type: 'number', min: 1, max: 365, value: 30}),
    valid: input({type: 'number', min: 1, max: 730, value: 365})};
  const vipForm = h('form', {class: 'card'}, h('h2', {}, t('vipNew')), field(t('pnr'), vip.patient), field(t('vipTypes'), vip.types),
    field(t('maxActive'), vip.max), field(t('horizon'), vip.horizon), field(t('validDays'), vip.valid), h('button', {type: 'submit'}, t('create')));
  vipForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.post('/api/v1/booking/vipcodes', {patient: vip.patient.value.trim(),
        visit_types: (vip.types.value || vip.types.placeholder).split(',').map((x) => x.trim()).filter(Boolean),
        max_active: Number(vip.max.value), horizon_days: Number(vip.horizon.value), valid_days: Number(vip.valid.value)});
      ok(t('vipCreated', {code: r.code, link: r.link}));
      await lookupVip();
    } catch (e) {
      fail(e);
    }
  });
  const vipList = h('div', {});
  const lookupVip = async () => {
    if (!vip.patient.value.trim()) return;
    const data = await api.get(`/api/v1/booking/vipcodes?patient=${encodeURIComponent(vip.patient.value.trim())}`);
    vipList.replaceChildren(table(['#', t('vipTypes'), t('status'), ''], data.codes.map((c) => h('tr', {}, h('td', {}, c.id),
      h('td', {}, c.visit_types.join(', ')), h('td', {}, c.revoked ? t('revoked') : (c.active ? t('active') : t('expired'))),
      h('td', {}, c.active ? h('button', {type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(t('confirmRevokeVip', {id: c.id}))) return;
        try {
          await api.post(`/api/v1/booking/vipcodes/${c.id}/revoke`, {});
          await lookupVip();
        } catch (e) {
          fail(e);
        }
      }}, t('revoke')) : null)))));
  };
  const lookupBtn = h('button', {type: 'button', onclick: () => lookupVip().catch(fail)}, t('lookup'));

  // Calendar feeds
  const feedPrac = h('select', {}, setup.practitioners.map((p) => h('option', {value: p.hsa_id}, p.name)));
  const feed = h('div', {class: 'card'}, h('h2', {}, t('icalTitle')), field(t('practitioner'), feedPrac),
    h('div', {class: 'actions'},
      h('button', {type: 'button', onclick: async () => {
        try {
          const r = await api.post(`/api/v1/booking/practitioners/${encodeURIComponent(feedPrac.value)}/icalfeed`, {});
          ok(t('icalCreated', {url: r.url}));
        } catch (e) {
          fail(e);
        }
      }}, t('icalCreate')),
      h('button', {type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(t('confirmRevokeIcal'))) return;
        try {
          await api.del(`/api/v1/booking/practitioners/${encodeURIComponent(feedPrac.value)}/icalfeed`);
          ok(t('icalRevoked'));
        } catch (e) {
          fail(e);
        }
      }}, t('icalRevoke'))));

  inv.unit.addEventListener('change', () => loadInvitations().catch(fail));
  root.replaceChildren(msg, h('h2', {}, t('invTitle')), invForm, invList,
    h('h2', {}, t('vipTitle')), vipForm, h('div', {class: 'actions'}, lookupBtn), vipList, feed);
  await loadInvitations();
}
