// The day report of a unit: who checked in, what they paid and how, who is exempt, and what
// is outstanding; staff take payment at the desk or send an invoice.
import {h, field, table, errorBox, boxDay, formatPnr} from '/js/dom.js';

const sv = {
  date: 'Datum', show: 'Visa', time: 'Tid', patient: 'Patient', visit: 'Besök', fee: 'Avgift', toPay: 'Att betala',
  status: 'Betalning', checkedIn: 'Incheckade: {n}', exempt: 'Avgiftsfria: {n}', outstanding: 'Obetalda: {n} ({kr})',
  paid: 'Betalt {method}: {kr}', desk: 'Betalt i kassan', invoice: 'Skicka faktura', markPaid: 'Markera betald',
  methods: {swish: 'Swish', desk: 'kassa', invoice: 'faktura'}, statuses: {created: 'väntar', paid: 'betald', invoiced: 'fakturerad',
    declined: 'nekad', cancelled: 'avbruten', error: 'fel'}, free: 'avgiftsfritt', local: ' (lokalt beräknad)', none: 'Ingen har checkat in.',
};
const t = (s, v = {}) => s.replace(/\{(\w+)\}/g, (_, k) => v[k] ?? '');
const kr = (ore) => `${(ore / 100).toLocaleString('sv-SE')} kr`;

export default async function render(root, api) {
  const date = h('input', {type: 'date', value: boxDay()});
  const msg = h('div', {'aria-live': 'polite'});
  const out = h('div', {});
  const act = async (fn) => {
    try {
      await fn();
      await load();
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  };
  const load = async () => {
    const d = await api.get(`/api/v1/checkin/day?date=${encodeURIComponent(date.value)}`);
    const rows = d.visits.map((v) => h('tr', {}, h('td', {}, v.time), h('td', {}, formatPnr(v.patient)), h('td', {}, v.tariff),
      h('td', {}, kr(v.fee_ore)), h('td', {}, v.charge_ore ? kr(v.charge_ore) + (v.card_source === 'local' ? sv.local : '') : `${sv.free} (${v.exempt_reason})`),
      h('td', {}, v.payment ? `${sv.methods[v.payment.method]}: ${sv.statuses[v.payment.status] || v.payment.status}` : ''),
      h('td', {class: 'actions'},
        v.charge_ore > 0 && !v.payment ? [
          h('button', {type: 'button', onclick: () => act(() => api.post(`/api/v1/checkin/visits/${v.visit_id}/payment`, {method: 'desk'}))}, sv.desk),
          h('button', {type: 'button', onclick: () => act(() => api.post(`/api/v1/checkin/visits/${v.visit_id}/payment`, {method: 'invoice'}))}, sv.invoice)] : null,
        v.payment && (v.payment.status === 'invoiced' || (v.payment.status === 'created' && v.payment.method === 'desk'))
          ? h('button', {type: 'button', onclick: () => act(() => api.post(`/api/v1/checkin/payments/${v.payment.id}/paid`, {}))}, sv.markPaid) : null)));
    out.replaceChildren(
      h('p', {}, t(sv.checkedIn, {n: d.checked_in}), ' · ', t(sv.exempt, {n: d.exempt}), ' · ', t(sv.outstanding, {n: d.outstanding, kr: kr(d.outstanding_ore)})),
      h('p', {}, Object.entries(d.paid_ore_by_method).map(([m, ore]) => t(sv.paid, {method: sv.methods[m] || m, kr: kr(ore)})).join(' · ')),
      rows.length ? table([sv.time, sv.patient, sv.visit, sv.fee, sv.toPay, sv.status, ''], rows) : h('p', {}, sv.none));
  };
  const f = h('form', {class: 'actions'}, field(sv.date, date), h('button', {type: 'submit'}, sv.show));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load().catch((e) => msg.replaceChildren(errorBox(e.message)));
  });
  root.replaceChildren(f, msg, out);
  await load();
}
