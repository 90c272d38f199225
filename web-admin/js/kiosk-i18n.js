// The kiosk's texts: the patient's chosen language, then Swedish (the kiosk catalogue, then the
// console's catalogue for any kiosk text still kept there), then the key itself.
import console from '../i18n/sv.js';
import sv from '../i18n/kiosk/sv.js';
import en from '../i18n/kiosk/en.js';

export const catalogues = {sv, en};
let current = 'sv';

export function setLanguage(lang) {
  current = catalogues[lang] ? lang : 'sv';
  document.documentElement.lang = current;
}
export const language = () => current;

export function t(key, vars = {}) {
  const text = catalogues[current][key] ?? sv[key] ?? console[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
