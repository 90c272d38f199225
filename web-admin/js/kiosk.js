// The check-in kiosk: the patient types their personnummer on the on-screen keypad, is checked
// in for today's booking, sees the fee and pays. The screen shows only this patient's time,
// room and what to pay, and clears itself (back to Swedish, nothing typed left) after
// `idle_seconds` without a touch, so the next patient never sees it.
// In a browser that is not a registered kiosk (the patient's phone) the page also asks for
// the code that the kiosk's screen shows.
import {h, field, announce} from './dom.js';
import {t, setLanguage, language, catalogues} from './kiosk-i18n.js';
import {swishPayment} from './kiosk-swish.js';

const main = document.getElementById('main');
let setup = {kiosk: false, languages: ['sv'], idle_seconds: 60};
let idle;
let poll;

function reset() {
  clearTimeout(idle);
  clearInterval(poll);
  setLanguage('sv');
  start();
}
// Any touch or key press restarts the inactivity timer.
function later(ms = setup.idle_seconds * 1000) {
  clearTimeout(idle);
  idle = setTimeout(() => {
    reset();
    announce(t('kiosk.cleared'));
  }, ms);
}
for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, () => later(), {passive: true});

// replaceChildren turns null into the text "null": parts left out (a room a booking does not
// have) are dropped here.
function show(...nodes) {
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== ''));
  main.focus();
  later();
}
const kr = (ore) => t('kiosk.kr', {kr: (ore / 100).toLocaleString(language() === 'sv' ? 'sv-SE' : 'en-GB', {maximumFractionDigits: 2})});

async function call(method, path, body) {
  const res = await fetch(path, {method, credentials: 'same-origin', headers: {'Content-Type': 'application/json', Accept: 'application/json'},
    body: body ? JSON.stringify(body) : undefined});
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) {
    // The patient's language: a problem the catalogue knows is told from it (with the
    // problem's members, such as the time, filled in); the server's own text is Swedish.
    const code = String(data.type || '').replace(/^\/problems\//, '');
    const key = `kiosk.problem.${code}`;
    const known = code && t(key) !== key;
    const e = new Error(known ? t(key, data) : (data.title || t('kiosk.error')));
    e.detail = known ? (t(`${key}.detail`, data) === `${key}.detail` ? '' : t(`${key}.detail`, data)) : (data.detail || '');
    // A personnummer's own reason (the check digit, the date) where the catalogue has it.
    if (code === 'invalid-personnummer' && data.reason && t(`pnr.${data.reason}`) !== `pnr.${data.reason}`) e.detail = t(`pnr.${data.reason}`);
    throw e;
  }
  return data;
}

function problem(e) {
  return h('div', {class: 'error', role: 'alert'}, h('p', {class: 'big'}, e.message), e.detail ? h('p', {}, e.detail) : null,
    h('p', {}, t('kiosk.askStaff')));
}

// The language buttons: each names its language in that language.
function languages() {
  if (setup.languages.length < 2) return null;
  return h('nav', {class: 'languages', 'aria-label': t('kiosk.chooseLanguage')}, setup.languages.filter((l) => catalogues[l]).map((l) =>
    h('button', {type: 'button', lang: l, 'aria-pressed': String(l === language()), onclick: () => { setLanguage(l); start(); }},
      catalogues[l]['kiosk.language'])));
}

// The on-screen numeric keypad; it types into whichever of the form's fields was last touched.
function keypad(target) {
  const press = (fn) => () => {
    const input = target();
    fn(input);
    input.dispatchEvent(new Event('input'));
  };
  const digit = (d) => h('button', {type: 'button', class: 'key', onclick: press((i) => {
    if (i.value.length < Number(i.maxLength > 0 ? i.maxLength : 13)) i.value += d;
  })}, d);
  return h('div', {class: 'keypad', role: 'group', 'aria-label': t('kiosk.keypad')},
    ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(digit),
    h('button', {type: 'button', class: 'key', onclick: press((i) => { i.value = ''; })}, t('kiosk.clear')),
    digit('0'),
    h('button', {type: 'button', class: 'key', 'aria-label': t('kiosk.eraseLabel'), onclick: press((i) => { i.value = i.value.slice(0, -1); })},
      t('kiosk.erase')));
}

function start() {
  // inputmode=none: the on-screen keypad replaces the device's own keyboard.
  const pnr = h('input', {type: 'text', inputmode: 'none', autocomplete: 'off', maxlength: 13});
  const code = setup.kiosk ? null : h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6});
  let active = pnr;
  for (const i of [pnr, code]) i?.addEventListener('focus', () => { active = i; });
  const out = h('div', {'aria-live': 'polite'});
  const f = h('form', {}, field(t('kiosk.pnr'), pnr, t('kiosk.pnrHint')),
    code ? field(t('kiosk.code'), code, t('kiosk.codeHint')) : null,
    keypad(() => active),
    h('button', {type: 'submit', class: 'primary'}, t('kiosk.checkIn')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {patient: pnr.value.trim()};
    if (code) body.code = code.value.trim();
    pnr.value = '';
    try {
      const s = await call('POST', '/api/v1/checkin/arrivals', body);
      checkedIn(s);
    } catch (e) {
      out.replaceChildren(problem(e));
      later(Math.min(20000, setup.idle_seconds * 1000));
    }
  });
  const intro = setup.kiosk ? t('kiosk.intro') : t('kiosk.phoneIntro');
  main.replaceChildren(...[languages(), h('h1', {}, t('kiosk.title')), h('p', {}, intro), f,
    setup.kiosk && setup.phone_code ? h('p', {class: 'phone-code'}, t('kiosk.phoneCode', {url: `${location.origin}/kiosk`, code: setup.phone_code})) : null]
    .filter(Boolean));
  pnr.focus();
}

function checkedIn(s) {
  const parts = [h('h1', {}, t('kiosk.welcome')), h('p', {class: 'big'}, t('kiosk.yourTime', {time: s.time})),
    typeof s.room === 'string' && s.room ? h('p', {}, t('kiosk.room', {room: s.room})) : null];
  if (s.charge_ore === 0) {
    parts.push(h('p', {class: 'big'}, t('kiosk.free')));
  } else {
    parts.push(h('p', {class: 'big'}, t('kiosk.toPay', {kr: kr(s.charge_ore)})));
    if (s.estimate) parts.push(h('p', {}, t('kiosk.local')));
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

// The setup (registered kiosk or phone, languages, idle time, the phone code) is read at start
// and again whenever the screen is idle on its start page, so the shown code stays current.
async function loadSetup() {
  try {
    setup = {...setup, ...await call('GET', '/api/v1/checkin/device')};
  } catch {
    // The start screen still works; check-in answers will say what is wrong.
  }
}
await loadSetup();
start();
later();
if (setup.kiosk) {
  setInterval(async () => {
    const onStart = !!main.querySelector('.phone-code');
    await loadSetup();
    const p = main.querySelector('.phone-code');
    if (onStart && p && setup.phone_code) p.textContent = t('kiosk.phoneCode', {url: `${location.origin}/kiosk`, code: setup.phone_code});
  }, 60000);
}
