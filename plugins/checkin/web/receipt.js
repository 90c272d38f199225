// The printable receipt of a check-in: the token after # (never sent in a URL to the server).
import {h, errorBox} from '/js/dom.js';

const kr = (ore) => `${(ore / 100).toLocaleString('sv-SE', {minimumFractionDigits: 2})} kr`;
const main = document.getElementById('main');
const token = location.hash.slice(1);

async function show() {
  const res = await fetch(`/api/v1/checkin/arrivals/${encodeURIComponent(token)}/receipt`, {credentials: 'omit'});
  const r = await res.json();
  if (!res.ok) throw new Error(r.title || 'Kvittot hittades inte');
  const paid = r.state === 'paid';
  main.replaceChildren(h('h1', {}, 'Kvitto'),
    h('p', {}, r.clinic), h('dl', {},
      h('dt', {}, 'Kvittonummer'), h('dd', {}, r.receipt_no),
      h('dt', {}, 'Datum'), h('dd', {}, `${r.date} kl. ${r.time}`),
      h('dt', {}, 'Besök'), h('dd', {}, r.tariff),
      h('dt', {}, 'Avgift'), h('dd', {}, kr(r.fee_ore)),
      r.exempt_reason ? [h('dt', {}, 'Avgiftsfritt'), h('dd', {}, r.exempt_reason)] : null,
      h('dt', {}, 'Betalt'), h('dd', {}, paid ? `${kr(r.payment.amount_ore)} (${r.payment.method === 'swish' ? 'Swish' : r.payment.method === 'invoice' ? 'faktura' : 'kassa'})` : '0,00 kr'),
      paid && r.payment.reference ? [h('dt', {}, 'Referens'), h('dd', {}, r.payment.reference)] : null),
    h('p', {}, r.charge_ore > 0 ? 'Avgiften räknas in i högkostnadsskyddet.' : ''),
    h('button', {type: 'button', onclick: () => window.print()}, 'Skriv ut'));
}

show().catch((e) => main.replaceChildren(errorBox(e.message)));
