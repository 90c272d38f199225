// Day and week view of a unit: every slot with its booking; book on behalf of a patient,
// cancel (inside the patients' limit with a reason), mark a no-show and undo it. Forms and
// messages open in a row right below the slot that was clicked.
import {h, field, table, errorBox, announce, boxDay} from '/js/dom.js';
import {t, pnr} from './strings.js';

const time = (iso) => iso.slice(11, 16);
const day = (iso) => iso.slice(0, 10);
const COLS = 6;

export default async function render(root, api) {
  const setup = await api.get('/api/v1/booking/setup');
  if (!setup.units.length) {
    root.replaceChildren(h('p', {}, t('noUnits')));
    return;
  }
  const unit = h('select', {}, setup.units.map((u) => h('option', {value: u.hsa_id}, u.name)));
  const date = h('input', {type: 'date', value: boxDay()});
  const days = h('select', {}, h('option', {value: '1'}, t('day1')), h('option', {value: '7'}, t('day7')));
  const prac = h('select', {}, h('option', {value: ''}, t('all')),
    setup.practitioners.map((p) => h('option', {value: p.hsa_id}, `${p.name} (${p.profession})`)));
  const msg = h('div', {'aria-live': 'polite'});
  const hours = h('p', {class: 'hint'});
  const out = h('div', {});
  // The open form or message: which slot it belongs to and what it shows.
  let inline = null;
  const rowOf = new Map();

  const placeInline = () => {
    out.querySelector('tr.inline')?.remove();
    const tr = inline && rowOf.get(inline.slotId);
    if (!tr) return;
    tr.after(h('tr', {class: 'inline'}, h('td', {colspan: COLS}, inline.node)));
  };
  const show = (slotId, node) => {
    inline = {slotId, node};
    placeInline();
  };
  const close = () => {
    inline = null;
    placeInline();
  };
  const okMessage = (slotId, text, ...extra) => {
    show(slotId, h('div', {class: 'inline-msg'}, h('p', {class: 'ok'}, text), ...extra));
    announce(text);
  };

  // Runs a change; the answer appears below the slot once the table shows the change.
  const act = async (slotId, fn, done, onError) => {
    try {
      const r = await fn();
      await load();
      done(r);
    } catch (e) {
      if (onError && onError(e)) return;
      show(slotId, h('div', {class: 'inline-msg'}, errorBox(e.message)));
    }
  };

  const cancelButton = () => h('button', {type: 'button', class: 'link', onclick: close}, t('close'));

  const bookForm = (slot) => {
    const pnrIn = h('input', {type: 'text', autocomplete: 'off', inputmode: 'numeric', placeholder: 'ÅÅÅÅMMDD-NNNN'});
    const phone = h('input', {type: 'tel', autocomplete: 'off'});
    const reason = h('input', {type: 'text', autocomplete: 'off', maxlength: 1000});
    const fPnr = field(t('pnr'), pnrIn);
    const err = h('div', {});
    const f = h('form', {class: 'card'}, h('h2', {}, `${t('book')} ${day(slot.start)} ${time(slot.start)} – ${slot.practitioner_name}`),
      err, fPnr, field(t('phone'), phone), field(t('reason'), reason),
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, t('book')), cancelButton()));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      fPnr.setError('');
      err.replaceChildren();
      const body = {slot_id: slot.slot_id, patient: pnrIn.value.trim()};
      if (phone.value.trim()) body.phone = phone.value.trim();
      if (reason.value.trim()) body.reason = reason.value.trim();
      act(slot.slot_id, () => api.post('/api/v1/booking/bookings', body),
        (r) => okMessage(slot.slot_id, t('booked_ok', {time: `${day(r.startTimeInclusive)} ${time(r.startTimeInclusive)}`})),
        (e) => {
          if (e.fieldErrors.some((x) => x.pointer === '/patient')) {
            fPnr.setError(e.message);
            pnrIn.focus();
          } else {
            err.replaceChildren(errorBox(e.message));
          }
          return true;
        });
    });
    show(slot.slot_id, f);
    pnrIn.focus();
  };

  const cancelForm = (s) => {
    const when = `${day(s.start)} ${time(s.start)}`;
    const reason = h('input', {type: 'text', autocomplete: 'off', maxlength: 500, required: !!s.change_needs_reason});
    const fReason = field(s.change_needs_reason ? t('cancelReasonRequired') : t('cancelReason'), reason);
    const f = h('form', {class: 'card', novalidate: true}, h('h2', {}, t('confirmCancel', {time: when, patient: pnr(s.patient)})),
      s.change_needs_reason ? h('p', {}, t('lateCancelNote')) : null, fReason,
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, t('cancelConfirm')), cancelButton()));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      fReason.setError('');
      const why = reason.value.trim();
      if (s.change_needs_reason && !why) {
        fReason.setError(t('reasonNeeded'));
        reason.focus();
        return;
      }
      act(s.slot_id, () => api.post(`/api/v1/booking/bookings/${s.booking_id}/cancel`, why ? {reason: why} : {}),
        () => okMessage(s.slot_id, t('cancelled_ok', {time: when})),
        (e) => {
          if (e.code === 'late-change-needs-reason') {
            fReason.setError(e.message);
            reason.focus();
            return true;
          }
          return false;
        });
    });
    show(s.slot_id, f);
    reason.focus();
  };

  const undoNoShow = (s) => act(s.slot_id, () => api.post(`/api/v1/booking/bookings/${s.booking_id}/noshow/undo`, {}),
    () => okMessage(s.slot_id, t('noshow_undone')));

  const noShowConfirm = (s) => {
    const yes = h('button', {type: 'button', class: 'danger', onclick: () =>
      act(s.slot_id, () => api.post(`/api/v1/booking/bookings/${s.booking_id}/noshow`, {}),
        (r) => okMessage(s.slot_id, t('noshow_ok', {count: r.noshow_count, times: r.noshow_count === 1 ? t('time1') : t('timesN')}),
          h('button', {type: 'button', onclick: () => undoNoShow(s)}, t('undo'))))}, t('noshowConfirm'));
    show(s.slot_id, h('div', {class: 'card'}, h('p', {}, t('confirmNoShow', {time: time(s.start), patient: pnr(s.patient)})),
      h('div', {class: 'actions'}, yes, cancelButton())));
    yes.focus();
  };

  const load = async () => {
    const q = new URLSearchParams({unit: unit.value, date: date.value, days: days.value});
    if (prac.value) q.set('practitioner', prac.value);
    const data = await api.get(`/api/v1/booking/calendar?${q}`);
    const now = Date.now();
    const single = days.value === '1';
    rowOf.clear();
    let firstUpcoming = null;
    let lastStartedToday = null;  // late in the day every time may have started
    const rows = data.slots.map((s) => {
      const started = new Date(s.start).getTime() <= now;
      const today = day(s.start) === boxDay();
      const status = s.status === 'free' && started ? 'passed' : s.status;
      const tr = h('tr', {class: started ? 'past' : null},
        h('td', {}, single ? time(s.start) : `${day(s.start)} ${time(s.start)}`),
        h('td', {}, s.practitioner_name),
        h('td', {}, `${s.visit_type_name} (${t(`form.${s.visit_form}`)})`),
        h('td', {}, t(status)),
        h('td', {}, s.patient ? pnr(s.patient) : ''),
        h('td', {class: 'actions'},
          s.status === 'free' ? h('button', {type: 'button', disabled: started, onclick: () => bookForm(s)}, t('book')) : null,
          s.status === 'booked' && !started ? h('button', {type: 'button', class: 'danger', onclick: () => cancelForm(s)}, t('cancel')) : null,
          s.status === 'booked' && started ? h('button', {type: 'button', onclick: () => noShowConfirm(s)}, t('markNoShow')) : null,
          s.status === 'noshow' && today ? h('button', {type: 'button', onclick: () => undoNoShow(s)}, t('undoNoShow')) : null));
      rowOf.set(s.slot_id, tr);
      if (!firstUpcoming && !started) firstUpcoming = tr;
      if (started && today) lastStartedToday = tr;
      return tr;
    });
    // The unit's opening hours that day: from its first time to the end of its last.
    if (data.slots.length && single) {
      const last = data.slots.map((s) => s.end).sort().pop();
      const to = day(last) !== day(data.slots[0].start) && time(last) === '00:00' ? '24:00' : time(last);
      hours.textContent = t('openingHours', {from: time(data.slots[0].start), to});
    } else {
      hours.textContent = '';
    }
    out.replaceChildren(rows.length ? table([t('time'), t('practitioner'), t('visitType'), t('status'), t('patient'), t('actions')], rows)
      : h('p', {}, t('noSlots')));
    placeInline();
    // The current time: the first time not yet started, or after today's last time.
    return firstUpcoming ?? lastStartedToday;
  };

  const filters = h('form', {class: 'actions'}, field(t('unit'), unit), field(t('date'), date), field(t('days'), days),
    field(t('practitioner'), prac), h('button', {type: 'submit'}, t('show')));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    inline = null;
    msg.replaceChildren();
    load().then(scrollToNow).catch((e) => msg.replaceChildren(errorBox(e.message)));
  });
  root.replaceChildren(filters, hours, msg, out);
  scrollToNow(await load());
}

// Today opens at the current time rather than at the day's first slot.
function scrollToNow(upcoming) {
  upcoming?.scrollIntoView({block: 'center'});
}
