// t('key', {name: 'x'}) looks a text up in the catalogue and fills its {placeholders}.
// Plugins' pages add their own keys (addStrings), e.g. the texts of their problem types.
import sv from '../i18n/sv.js';

const catalogue = {...sv};

export function t(key, vars = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function has(key) {
  return key in catalogue;
}

// Adds texts to the catalogue; a key the console already has is kept.
export function addStrings(texts) {
  for (const [k, v] of Object.entries(texts)) if (!(k in catalogue)) catalogue[k] = v;
}
