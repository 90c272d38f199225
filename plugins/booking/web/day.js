// Day and week view of a unit: every slot with its booking; book on behalf of a patient,
// cancel, mark no-show.
import {h, field, table, errorBox, announce} from '/js/dom.js';
import {t} from './strings.js';

const time = (iso) => iso.slice(11, 16);
const day = (iso) => iso.slice(0, 10);

export default async function render(root, api) {
  const setup = await api.get('/api/v1/booking/setup');
  if (!setup.units.length) {
    root.replaceChildren(h('p', {}, t('noUnits')));
    return;
  }
  const unit = h('select', {}, setup.units.map((u) => h('option', {value: u.hsa_id}, u.name)));
  const date = h('input', {type: 'date', value: new Date().toLocaleDateString('sv-SE')});
  const days = h('select', {}, h('option', {value: '1'}, t('day1')), h('option', {value: '7'}, t('day7')));
  const prac = h('select', {}, h('option', {value: ''}, t('all')),
    setup.practitioners.map((p) => h('option', {value: p.hsa_id}, `${p.name} (${p.profession})`)));
  const msg = h('div', {'aria-live': 'polite'});
  const out = h('div', {});

  // The message appears once the table shows the change.
  const act = async (fn, done) => {
    try {
      const r = await fn();
      await load();
      msg.replaceChildren(h('p', {class: 'ok'}, done(r)));
      announce(done(r));
    } catch (e) {
      msg.replaceChildren(errorBox(e.message));
    }
  };

  const bookForm = (slot) => {
    const pnr = h('input', {type: 'text', autocomplete: 'off', inputmode: 'numeric'});
    const phone = h('input', {type: 'tel', autocomplete: 'off'});
    const reason = h('input', {type: 'text', autocomplete: 'off', maxlength: 1000});
    const f = h('form', {class: 'card'}, h('h2', {}, `${t('book')} ${day(slot.start)} ${time(slot.start)} – ${slot.practitioner_name}`),
      field(t('pnr'), pnr), field(t('phone'), phone), field(t('reason'), reason),
      h('button', {type: 'submit'}, t('book')));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body = {slot_id: slot.slot_id, patient: pnr.value.trim()};
      if (phone.value.trim()) body.phone = phone.value.trim();
      if (reason.value.trim()) body.reason = reason.value.trim();
      act(() => api.post('/api/v1/booking/bookings', body), (r) => t('booked_ok', {time: `${day(r.startTimeInclusive)} ${time(r.startTimeInclusive)}`}));
    });
    msg.replaceChildren(f);
    pnr.focus();
  };

  const load = async () => {
    const q = new URLSearchParams({unit: unit.value, date: date.value, days: days.value});
    if (prac.value) q.set('practitioner', prac.value);
    const data = await api.get(`/api/v1/booking/calendar?${q}`);
    const now = new Date().toISOString();
    const rows = data.slots.map((s) => h('tr', {},
      h('td', {}, days.value === '1' ? time(s.start) : `${day(s.start)} ${time(s.start)}`),
      h('td', {}, s.practitioner_name),
      h('td', {}, `${s.visit_type_name} (${t(`form.${s.visit_form}`)})`),
      h('td', {}, t(s.status)),
      h('td', {}, s.patient || ''),
      h('td', {class: 'actions'},
        s.status === 'free' ? h('button', {type: 'button', onclick: () => bookForm(s)}, t('book')) : null,
        s.status === 'booked' ? h('button', {type: 'button', class: 'danger', onclick: () => {
          if (window.confirm(t('confirmCancel', {time: `${day(s.start)} ${time(s.start)}`})))
            act(() => api.post(`/api/v1/booking/bookings/${s.booking_id}/cancel`, {}), () => t('cancelled_ok'));
        }}, t('cancel')) : null,
        s.status === 'booked' && new Date(s.start).toISOString() < now ? h('button', {type: 'button', onclick: () =>
          act(() => api.post(`/api/v1/booking/bookings/${s.booking_id}/noshow`, {}), (r) => t('noshow_ok', {count: r.noshow_count}))},
        t('markNoShow')) : null)));
    out.replaceChildren(rows.length ? table([t('time'), t('practitioner'), t('visitType'), t('status'), t('patient'), ''], rows)
      : h('p', {}, t('noSlots')));
  };

  const filters = h('form', {class: 'actions'}, field(t('unit'), unit), field(t('date'), date), field(t('days'), days),
    field(t('practitioner'), prac), h('button', {type: 'submit'}, t('show')));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load().catch((e) => msg.replaceChildren(errorBox(e.message)));
  });
  root.replaceChildren(filters, msg, out);
  await load();
}
