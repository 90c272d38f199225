// The patient's invitation page: the link's token (after #, never sent to the server in the
// URL) plus the personnummer open it; then choose a time, answer the questions or cancel.
import {h, field, errorBox} from '/js/dom.js';
import {t} from './strings.js';
import {post, when} from './patient.js';

const main = document.getElementById('main');
const token = location.hash.slice(1);
let pnr = '';

function show(...nodes) {
  main.replaceChildren(h('h1', {}, t('p.invTitle')), ...nodes);
  main.focus();
}

// notice: a confirmation to show above the invitation (it survives the re-render).
async function open(notice) {
  const inv = await post('/api/v1/booking/invite/open', {token, patient: pnr});
  const parts = [h('p', {}, t('p.from', {unit: inv.healthcare_facility_name, address: inv.address})),
    h('p', {}, t('p.purpose', {purpose: inv.purpose}))];
  const msg = h('div', {'aria-live': 'polite'});
  if (inv.booking && inv.booking.status === 'booked') {
    parts.push(h('p', {class: 'ok'}, t('p.yourTime', {time: when(inv.booking.startTimeInclusive)})));
    if (inv.booking.cancel_booking_allowed)
      parts.push(h('button', {type: 'button', class: 'danger', onclick: async () => {
        try {
          await post('/api/v1/booking/invite/cancel', {token, patient: pnr});
          show(h('p', {class: 'ok'}, t('p.cancelledOk')));
        } catch (e) {
          msg.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
        }
      }}, t('p.cancel')));
  } else if (inv.timeslots) {
    parts.push(h('h2', {}, t('p.chooseTime')));
    if (!inv.timeslots.length) parts.push(h('p', {}, t('p.noTimes')));
    const list = h('ul', {}, inv.timeslots.map((s) => h('li', {}, `${when(s.startTimeInclusive)} `,
      h('button', {type: 'button', onclick: async () => {
        try {
          const r = await post('/api/v1/booking/invite/book', {token, patient: pnr, slot_id: s.slot_id});
          await open(t('p.bookedOk', {time: when(r.startTimeInclusive)}));
        } catch (e) {
          msg.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
        }
      }}, t('p.choose')))));
    parts.push(list);
  }
  if (inv.questions.length) {
    const inputs = inv.questions.map((q, i) => h('textarea', {rows: 2, 'aria-label': q}, (inv.answers || [])[i] || ''));
    const f = h('form', {class: 'card'}, h('h2', {}, t('p.questions')), inv.questions.map((q, i) => field(q, inputs[i])),
      h('button', {type: 'submit'}, t('p.sendAnswers')));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await post('/api/v1/booking/invite/answers', {token, patient: pnr, answers: inputs.map((x) => x.value.trim() || '-')});
        msg.replaceChildren(h('p', {class: 'ok'}, t('p.answered')));
      } catch (e) {
        msg.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
      }
    });
    parts.push(f);
  }
  if (notice) msg.replaceChildren(h('p', {class: 'ok'}, notice));
  show(msg, ...parts);
}

if (!token) {
  show(errorBox(t('p.noLink')));
} else {
  const input = h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'off'});
  const err = h('div', {'aria-live': 'polite'});
  const f = h('form', {}, field(t('p.pnrLabel'), input), h('button', {type: 'submit'}, t('p.open')), err);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    pnr = input.value.trim();
    try {
      await open();
    } catch (e) {
      err.replaceChildren(errorBox(t('p.failed', {msg: e.message})));
    }
  });
  show(f);
}
