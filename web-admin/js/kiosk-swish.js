// Paying with Swish at the kiosk. The patient chooses: scan a QR code with the Swish app
// (the box asks Swish for a request without a payer, draws the code from its token and shows
// it here; on the patient's own phone the "open Swish" link switches to the app instead), or
// type their mobile number so the request appears in their app. Then the screen waits for
// the payment like the other methods.
import {h, field} from './dom.js';
import {t} from './kiosk-i18n.js';

// The SVG the box drew, as DOM nodes (parsed as an image, never as HTML).
function qrImage(svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
  svg.setAttribute('aria-label', t('kiosk.swishQrLabel'));
  return document.importNode(svg, true);
}

// k: the kiosk's own helpers {call, show, problem, kr, waitForPayment, later}. While Swish
// waits for the payer (about 3 minutes) the screen is not cleared.
const SWISH_WAIT_MS = 4 * 60000;
export function swishPayment(s, k) {
  const path = `/api/v1/checkin/arrivals/${encodeURIComponent(s.token)}/payment`;
  const mobile = h('input', {type: 'tel', inputmode: 'tel', autocomplete: 'off', maxlength: 20});
  const out = h('div', {'aria-live': 'polite'});
  const form = h('form', {}, field(t('kiosk.swishMobile'), mobile, t('kiosk.swishMobileHint')),
    h('button', {type: 'submit'}, t('kiosk.swishSend')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await k.call('POST', path, {method: 'swish', payer_mobile: mobile.value.trim()});
      k.show(h('h1', {}, t('kiosk.swishTitle')), h('p', {class: 'big'}, t('kiosk.swishOpen', {kr: k.kr(s.charge_ore)})),
        h('p', {id: 'pay-state'}, t('kiosk.waiting')));
      k.later(SWISH_WAIT_MS);
      k.waitForPayment(s);
    } catch (e) {
      out.replaceChildren(k.problem(e));
    }
  });
  const scan = async () => {
    try {
      const r = await k.call('POST', path, {method: 'swish'});
      const sw = r.payment && r.payment.swish;
      if (!sw || !sw.qr_svg) throw new Error(t('kiosk.error'));
      k.show(h('h1', {}, t('kiosk.swishTitle')), h('p', {class: 'big'}, t('kiosk.swishScan', {kr: k.kr(s.charge_ore)})),
        h('div', {class: 'swish-qr'}, qrImage(sw.qr_svg)),
        h('p', {}, h('a', {href: sw.app_url, class: 'swish-app'}, t('kiosk.swishThisPhone'))),
        h('p', {id: 'pay-state'}, t('kiosk.waiting')));
      k.later(SWISH_WAIT_MS);
      k.waitForPayment(s);
    } catch (e) {
      k.show(k.problem(e));
    }
  };
  k.show(h('h1', {}, t('kiosk.swishTitle')), h('p', {class: 'big'}, t('kiosk.toPay', {kr: k.kr(s.charge_ore)})),
    h('p', {}, h('button', {type: 'button', onclick: scan}, t('kiosk.swishQr'))), h('p', {}, t('kiosk.swishOr')), form);
}
