// VIP booking for a patient with a code from the clinic: code + personnummer show the
// times the code covers; one click books.
import {h, field, errorBox} from '/js/dom.js';
import {t} from './strings.js';
import {post, when} from './patient.js';

const main = document.getElementById('main');
const code = h('input', {type: 'text', autocomplete: 'off'});
const pnr = h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'off'});
const phone = h('input', {type: 'tel', autocomplete: 'tel'});
const msg = h('div', {'aria-live': 'polite'});
const times = h('div', {});

async function load() {
  const data = await post('/api/v1/booking/vip/availability', {code: code.value.trim(), patient: pnr.value.trim()});
  if (!data.timeslots.length) {
    times.replaceChildren(h('p', {}, t('p.noTimes')));
    return;
  }
  times.replaceChildren(h('h2', {}, t('p.chooseTime')), h('ul', {}, data.timeslots.map((s) => h('li', {},
    `${when(s.startTimeInclusive)} – ${s.timeTypeName}${s.visit_form === 'video' ? ` (${t('p.video')})` : ''} `,
    h('button', {type: 'button', onclick: async () => {
      try {
        const body = {code: code.value.trim(), patient: pnr.value.trim(), slot_id: s.slot_id};
        if (phone.value.trim()) body.phone = phone.value.trim();
        const r = await post('/api/v1/booking/vip/book', body);
        msg.replaceChildren(h('p', {class: 'ok'}, t('p.bookedOk', {time: when(r.startTimeInclusive)})));
        times.replaceChildren();
      } catch (e) {
        msg.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
      }
    }}, t('p.choose'))))));
}

const f = h('form', {}, field(t('p.codeLabel'), code), field(t('p.pnrLabel'), pnr), field(t('p.phone'), phone),
  h('button', {type: 'submit'}, t('p.open')));
f.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  msg.replaceChildren();
  try {
    await load();
  } catch (e) {
    msg.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
  }
});
main.replaceChildren(h('h1', {}, t('p.vipTitle')), f, msg, times);
