// The check-in kiosk: the patient types their personnummer, is checked in for today's
// booking, sees the fee and pays. The screen shows only this patient's time, room and fee,
// and clears itself after a short while so the next patient never sees it.
import {h, field, errorBox, announce} from './dom.js';
import {t} from './i18n.js';
import {swishPayment} from './kiosk-swish.js';

const main = document.getElementById('main');
const IDLE_MS = 60000;
let idle;
let poll;

function reset() {
  clearTimeout(idle);
  clearInterval(poll);
  start();
}
function later(ms = IDLE_MS) {
  clearTimeout(idle);
  idle = setTimeout(reset, ms);
}
function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus();
  later();
}
const kr = (ore) => t('kiosk.kr', {kr: (ore / 100).toLocaleString('sv-SE', {maximumFractionDigits: 2})});

async function call(method, path, body) {
  const res = await fetch(path, {method, credentials: 'omit', headers: {'Content-Type': 'application/json', Accept: 'application/json'},
    body: body ? JSON.stringify(body) : undefined});
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const e = new Error(data.title || t('kiosk.error'));
    e.detail = data.detail || '';
    throw e;
  }
  return data;
}

function problem(e) {
  return h('div', {class: 'error', role: 'alert'}, h('p', {class: 'big'}, e.message), e.detail ? h('p', {}, e.detail) : null,
    h('p', {}, t('kiosk.askStaff')));
}

function start() {
  const pnr = h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'off', maxlength: 13});
  const out = h('div', {'aria-live': 'polite'});
  const f = h('form', {}, field(t('kiosk.pnr'), pnr, t('kiosk.pnrHint')), h('button', {type: 'submit'}, t('kiosk.checkIn')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pnr.value.trim();
    pnr.value = '';
    try {
      const s = await call('POST', '/api/v1/checkin/arrivals', {patient: value, channel: 'kiosk'});
      checkedIn(s);
    } catch (e) {
      out.replaceChildren(problem(e));
      later(20000);
    }
  });
  main.replaceChildren(h('h1', {}, t('kiosk.title')), h('p', {}, t('kiosk.intro')), f);
  pnr.focus();
}

function checkedIn(s) {
  const parts = [h('h1', {}, t('kiosk.welcome')), h('p', {class: 'big'}, t('kiosk.yourTime', {time: s.time})),
    s.room ? h('p', {}, t('kiosk.room', {room: s.room})) : null];
  if (s.charge_ore === 0) {
    parts.push(h('p', {class: 'big'}, s.fee_ore === 0 && !s.exempt_reason ? t('kiosk.free') : t('kiosk.freeBecause', {reason: s.exempt_reason || t('kiosk.frikort')})));
  } else {
    parts.push(h('p', {class: 'big'}, t('kiosk.toPay', {kr: kr(s.charge_ore)})));
    if (s.charge_ore < s.fee_ore) parts.push(h('p', {}, t('kiosk.cut', {kr: kr(s.fee_ore)})));
    if (s.card_source === 'local') parts.push(h('p', {}, t('kiosk.local')));
    parts.push(h('div', {}, s.methods.map((m) => h('button', {type: 'button', onclick: () => payWith(s, m)}, t(`kiosk.method.${m}`)))));
  }
  if (s.optin_required) parts.push(optIn(s));
  parts.push(h('p', {}, h('button', {type: 'button', class: 'link', onclick: reset}, t('kiosk.done'))));
  show(...parts);
  announce(t('kiosk.yourTime', {time: s.time}));
}

function optIn(s) {
  const box = h('div', {class: 'card'}, h('p', {}, t('kiosk.optinQuestion')));
  box.append(h('button', {type: 'button', onclick: async () => {
    try {
      await call('POST', `/api/v1/checkin/arrivals/${encodeURIComponent(s.token)}/optin`, {consent: true});
      box.replaceChildren(h('p', {class: 'ok'}, t('kiosk.optinThanks')));
    } catch (e) {
      box.replaceChildren(problem(e));
    }
  }}, t('kiosk.optinYes')), h('button', {type: 'button', class: 'link', onclick: () => box.remove()}, t('kiosk.optinNo')));
  return box;
}

async function payWith(s, method) {
  if (method === 'swish') return swishPayment(s, {call, show, problem, kr, waitForPayment, later});
  try {
    const r = await call('POST', `/api/v1/checkin/arrivals/${encodeURIComponent(s.token)}/payment`, {method});
    if (method === 'swish') {
      show(h('h1', {}, t('kiosk.swishTitle')), h('p', {class: 'big'}, t('kiosk.swishOpen', {kr: kr(s.charge_ore)})),
        h('p', {id: 'pay-state'}, t('kiosk.waiting')));
      waitForPayment(s);
    } else {
      paid(s, r.state);
    }
  } catch (e) {
    show(problem(e));
  }
}

function waitForPayment(s) {
  clearInterval(poll);
  const until = Date.now() + 4 * 60000;
  poll = setInterval(async () => {
    try {
      const r = await call('GET', `/api/v1/checkin/arrivals/${encodeURIComponent(s.token)}`);
      if (r.state === 'paid' || Date.now() > until || (r.payment && ['declined', 'cancelled', 'error'].includes(r.payment.status))) {
        clearInterval(poll);
        if (r.state === 'paid') paid(s, 'paid');
        else show(h('div', {class: 'error', role: 'alert'}, h('p', {class: 'big'}, t('kiosk.notPaid')), h('p', {}, t('kiosk.askStaff'))));
      }
    } catch (e) {
      clearInterval(poll);
      show(problem(e));
    }
  }, 1500);
}

function paid(s, state) {
  const text = state === 'paid' ? t('kiosk.paid') : state === 'invoiced' ? t('kiosk.invoiced') : t('kiosk.payAtDesk');
  show(h('h1', {}, t('kiosk.thanks')), h('p', {class: 'big'}, text),
    h('p', {}, h('a', {href: `/plugins/checkin/receipt.html#${encodeURIComponent(s.token)}`, target: '_blank', rel: 'noopener'}, t('kiosk.receipt'))),
    h('p', {}, t('kiosk.sitDown')), h('button', {type: 'button', onclick: reset}, t('kiosk.done')));
  announce(text);
}

start();
