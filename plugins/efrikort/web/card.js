// Staff: a patient's frikort — the national card when eFrikort answers, and always this
// clinic's own ledger (marked as local).
import {h, field, table, errorBox} from '/js/dom.js';

const sv = {
  pnr: 'Personnummer', show: 'Visa', national: 'e-frikort (nationellt)', local: 'Mottagningens egna uppgifter (lokalt)',
  unreachable: 'e-frikort kunde inte nås: {e}', status: 'Status: {s}', left: '{kr} kvar till frikort', paid: 'Betalt i perioden: {kr}',
  frikort: 'Patienten har frikort till och med {end}.', period: 'Period: {start} – {end}', date: 'Datum', charged: 'Betalt',
  refunded: 'Återbetalt', counts: 'Räknas', state: 'Registrering', yes: 'ja', no: 'nej',
  states: {pending: 'väntar', registered: 'registrerad', optin_required: 'väntar på samtycke', not_registered: 'registreras inte',
    failed: 'misslyckades', deleted: 'borttagen'},
  // eFrikort's card statuses (its contract's codes) as staff say them; both kinds of frikort are valid.
  cards: {NONE: 'Inget frikort (inga avgifter registrerade)', BELOW_LIMIT: 'Under högkostnadstaket (inget frikort)',
    PRELIMINARY: 'Frikort (preliminärt, giltigt)', FINAL: 'Frikort (giltigt)', EXPIRED: 'Frikortet har gått ut'},
  noFees: 'Inga avgifter registrerade här i perioden.',
};
const t = (s, v = {}) => s.replace(/\{(\w+)\}/g, (_, k) => v[k] ?? '');
const kr = (ore) => `${(ore / 100).toLocaleString('sv-SE', {minimumFractionDigits: 0, maximumFractionDigits: 2})} kr`;

export default async function render(root, api) {
  const pnr = h('input', {type: 'text', autocomplete: 'off', inputmode: 'numeric'});
  const out = h('div', {'aria-live': 'polite'});
  const f = h('form', {class: 'actions'}, field(sv.pnr, pnr), h('button', {type: 'submit'}, sv.show));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const d = await api.get(`/api/v1/efrikort/patients/${encodeURIComponent(pnr.value.trim())}`);
      const n = d.national;
      const l = d.local;
      out.replaceChildren(
        h('section', {class: 'card'}, h('h2', {}, sv.national),
          n.reachable ? [h('p', {class: ['PRELIMINARY', 'FINAL'].includes(n.status) ? 'ok' : ''}, t(sv.status, {s: sv.cards[n.status] || n.status})), n.left_ore !== undefined ? h('p', {}, t(sv.left, {kr: kr(n.left_ore)})) : null]
            : h('p', {class: 'error'}, t(sv.unreachable, {e: n.error}))),
        h('section', {class: 'card'}, h('h2', {}, sv.local), h('p', {}, l.note),
          l.frikort ? h('p', {class: 'ok'}, t(sv.frikort, {end: l.window_end})) : h('p', {}, t(sv.left, {kr: kr(l.left_ore)})),
          h('p', {}, t(sv.paid, {kr: kr(l.paid_ore)})), l.window_start ? h('p', {}, t(sv.period, {start: l.window_start, end: l.window_end})) : null,
          l.fees.length ? table([sv.date, sv.charged, sv.refunded, sv.counts, sv.state], l.fees.map((x) => h('tr', {}, h('td', {}, x.date),
            h('td', {}, kr(x.charged_ore)), h('td', {}, kr(x.refunded_ore)), h('td', {}, x.counts ? sv.yes : sv.no),
            h('td', {}, sv.states[x.state] || x.state)))) : h('p', {}, sv.noFees)));
    } catch (e) {
      out.replaceChildren(errorBox(e.message));
    }
  });
  root.replaceChildren(f, out);
}
