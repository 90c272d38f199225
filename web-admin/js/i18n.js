// t('key', {name: 'x'}) looks a text up in the catalogue and fills its {placeholders}.
import sv from '../i18n/sv.js';

const catalogue = sv;

export function t(key, vars = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}
