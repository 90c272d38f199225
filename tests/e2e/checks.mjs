// Page checks every browser walk runs: no English (and no raw catalogue key or problem
// type) in a rendered Swedish console page, and 0 axe-core WCAG 2.1 A/AA violations.
import assert from 'node:assert/strict';
import {createRequire} from 'node:module';
import {readFileSync} from 'node:fs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Words that are English and not Swedish. Words both languages share ("in", "for", "man",
// "problem", "status", "patient", "version") are left out on purpose, so a hit is English.
const ENGLISH = new Set(`
the and with without from this that these those there their which what when where while
is are was were been being has have had does did doing done not cannot can't won't don't
must should would could shall will may might yet already only also
booking bookings booked cancel cancelled cancellation slot slots schedule schedules
error errors failed failure invalid required unknown field fields missing wrong denied
refused allowed forbidden request requests response found exists already
settings setting enabled disabled save saved delete deleted update updated create created
user users role roles anonymous native example hello greeting greetings
please click here yes submit login logout password username loading retry
hours minutes days day week today tomorrow yesterday until before after since
message messages channel channels pending delivered dead attempts
check checked checks signed signer valid expired expires expiring
below above limit limits ceiling reached free paid unpaid
visit visits waiting admitted room rooms practitioner unit units
out must-be must_be should-be characters number whole between
`.split(/\s+/).filter(Boolean));

// Proper nouns, product names and identifiers that appear as they are in Swedish text.
export const ALLOWED = new Set(`
klinikbox swish bankid e-frikort efrikort frikort hsa hsa-id csv json yaml ical lua-skript
npö npo riv rivta ta pdl crl tls sha-256 url https http id sms vip it sdk ok lua t.ex lua.scripts_dir
`.split(/\s+/).filter(Boolean));

// Visible text and the texts assistive technology reads (labels, titles, placeholders).
// Elements marked with another language (lang="en": an English log line as recorded) and
// code (a file name, a script) are not Swedish text and are skipped.
async function pageTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const skip = (el) => el.closest('[lang]:not([lang="sv"]), code, pre, textarea, script, style, [hidden]');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || skip(el)) continue;
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      if (n.textContent.trim()) out.push(n.textContent.trim());
    }
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], input[type="submit"], option')) {
      if (skip(el)) continue;
      for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
    return out;
  });
}

// The English words, raw keys ("role.anonymous") and problem types found in the texts.
export function englishIn(texts, allowed = []) {
  const allow = new Set([...ALLOWED, ...allowed.map((w) => w.toLowerCase())]);
  const found = [];
  for (const text of texts) {
    if (allowed.includes(text)) continue;
    for (const m of text.matchAll(/\/problems\/[a-z-]+|\b[a-z]+(?:\.[a-z_]+)+\b/g)) {
      const k = m[0];
      // Domain names and file names are not catalogue keys.
      if (/\.(se|com|org|lua|zip|yaml|csv|html|js|json|pem|crt|md)$/.test(k) || allow.has(k)) continue;
      found.push(`${k}  (in "${text}")`);
    }
    for (const w of text.toLowerCase().split(/[^a-zåäöéü'-]+/)) {
      if (w && ENGLISH.has(w) && !allow.has(w)) found.push(`${w}  (in "${text}")`);
    }
  }
  return found;
}

// Fails on English in the page as rendered now. `allowed`: words or whole texts that are
// data (a name a user typed) rather than interface text.
export async function expectSwedish(page, where, allowed = []) {
  const found = englishIn(await pageTexts(page), allowed);
  assert.deepEqual(found, [], `English or raw codes on ${where}:\n${found.join('\n')}`);
}

// 0 axe-core violations of WCAG 2.0/2.1 A and AA on the page as rendered now.
export async function expectAccessible(page, where) {
  // Evaluated through the browser's protocol: the console's CSP rightly refuses inline scripts.
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  }));
  const v = result.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  assert.deepEqual(v, [], `axe on ${where}:\n${v.join('\n')}`);
}

// Both checks.
export async function checkPage(page, where, allowed = []) {
  await expectSwedish(page, where, allowed);
  await expectAccessible(page, where);
}
