// Shared journal access in the browser against the real box and klinikbox-sim: a staff
// member chooses the assignment, registers a relation and the patient's consent and reads
// the notes; opens another patient with emergency access (shown in red); an auditor marks
// the emergency access reviewed and prints the patient's log extract.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startBox, launch, login} from './box.mjs';

const buildDir = process.env.KB_BUILD_DIR || new URL('../../build', import.meta.url).pathname;
let box, browser, page, sim, simDir;

async function startSim() {
  simDir = mkdtempSync(join(tmpdir(), 'kb-e2e-sim-'));
  const proc = spawn(join(buildDir, 'tests', 'sim', 'klinikbox-sim'), ['--state-dir', simDir, '--timeout-ms', '3000'],
    {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`klinikbox-sim did not start: ${out}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) { clearTimeout(timer); resolve(JSON.parse(line)); }
    });
    proc.on('exit', (code) => reject(new Error(`klinikbox-sim exited with ${code}`)));
  });
  return {...ready, proc};
}

before(async () => {
  sim = await startSim();
  const s = sim.https;
  box = await startBox({plugins: ['journal'], extraConfig:
    '  settings:\n    journal:\n      care_provider_id: SE2321000016-VG01\n' +
    '      care_units:\n        - {hsa_id: SE2321000016-VE01, name: Vårdcentralen Norr}\n' +
    `      services:\n        npo_url: "${s}/npo/{contract}"\n        consent_url: ${s}/consent\n        blocks_url: ${s}/blocks\n` +
    `        log_url: ${s}/log\n        client_cert: ${sim.client_cert}\n        client_key: ${sim.client_key}\n        ca: ${sim.ca}\n`});
  box.cli(['user', 'add', '--username', 'eva', '--role', 'staff', '--name', 'Eva Ek', '--hsa-id', 'SE2321000016-E001',
    '--password-stdin'], 'staff password 1234\n');
  box.cli(['user', 'add', '--username', 'granskare', '--role', 'auditor', '--name', 'Gun Granskare', '--password-stdin'],
    'auditor password 123\n');
  ({browser, page} = await launch());
});

after(async () => {
  await browser?.close();
  await box?.stop();
  if (sim) {
    sim.proc.kill('SIGTERM');
    await new Promise((r) => sim.proc.once('exit', r));
  }
  if (simDir) rmSync(simDir, {recursive: true, force: true});
});

const main = () => page.locator('main');

async function openPatient(pnr) {
  await main().getByLabel('Personnummer').fill(pnr);
  await main().getByRole('button', {name: 'Öppna', exact: true}).click();
}

test('staff register a relation and the patient\'s consent, then read the notes rendered safely', async () => {
  await login(page, box.url, 'eva', 'staff password 1234');
  await page.getByRole('link', {name: 'Sammanhållen journal'}).click();
  await main().getByRole('button', {name: 'Välj uppdrag'}).click();
  await openPatient('197512303442');
  await main().getByText('Patientrelation: Ingen aktiv patientrelation').waitFor();
  await main().getByLabel('Skäl till patientrelation').fill('Akut besök utan bokning');
  await main().getByRole('button', {name: 'Registrera patientrelation'}).click();
  await main().getByText('Patientrelation: Registrerad med skäl').waitFor();
  await main().getByRole('button', {name: 'Journalanteckningar'}).click();
  await main().getByText(/Patienten har inte lämnat samtycke/).waitFor();
  await main().getByRole('button', {name: 'Registrera samtycke'}).click();
  await main().getByText('Samtycket är registrerat.').waitFor();
  await main().getByRole('button', {name: 'Journalanteckningar'}).click();
  await main().getByText('Grund: patientens samtycke').waitFor();
  await main().getByRole('heading', {name: 'Knäsmärta'}).waitFor();
  // Dated as people write dates (NPÖ's 20261020 was shown as it came), the sources' answers in Swedish.
  const headings = await main().locator('article.record > h3').allInnerTexts();
  assert.ok(headings.length > 0);
  for (const h of headings) assert.match(h, /^\d{4}-\d\d-\d\d /);
  const days = headings.map((h) => h.slice(0, 10));
  assert.deepEqual(days, [...days].sort().reverse(), 'newest first');
  assert.match(await main().getByText(/^Källsystem: /).innerText(), /\(svarade\)/);
  // The producer's markup stays text: no image or script element came from it.
  assert.equal(await page.locator('article.record img, article.record script').count(), 0);
  await main().getByText(/<img src=x onerror=alert\(1\)>/).waitFor();
  assert.equal(await main().getByText('Denna anteckning saknar ansvarig vårdenhet').count(), 0);
});

test('emergency access needs a reason, is shown in red and opens the record', async () => {
  await openPatient('191212121212');
  await main().getByLabel('Skäl till patientrelation').fill('Inkommer akut med ambulans');
  await main().getByRole('button', {name: 'Registrera patientrelation'}).click();
  await main().getByText('Patientrelation: Registrerad med skäl').waitFor();
  await main().getByRole('button', {name: 'Öppna med nödåtkomst'}).click();
  await main().getByText(/Nödåtkomst kräver ett skäl/).waitFor();
  await main().getByLabel('Skäl till nödåtkomst').fill('Medvetslös vid ankomst');
  await main().getByRole('button', {name: 'Öppna med nödåtkomst'}).click();
  const red = main().getByText(/NÖDÅTKOMST aktiv/);
  await red.waitFor();
  assert.equal(await red.evaluate((e) => getComputedStyle(e).color), 'rgb(176, 0, 0)');
  await main().getByRole('button', {name: 'Journalanteckningar'}).click();
  const basis = main().getByText('Grund: NÖDÅTKOMST');
  await basis.waitFor();
  assert.equal(await basis.evaluate((e) => getComputedStyle(e).color), 'rgb(176, 0, 0)');
});

test('an auditor marks the emergency access reviewed and prints the patient\'s log extract', async () => {
  await page.getByRole('button', {name: 'Logga ut'}).click();
  await login(page, box.url, 'granskare', 'auditor password 123');
  await page.getByRole('link', {name: 'Loggkontroll journal'}).click();
  await main().getByRole('heading', {name: 'Nödåtkomster'}).waitFor();
  // The review speaks Swedish (it showed "notes emergency") and writes personnummer with a dash.
  const emergencyRow = main().locator('tr', {hasText: '19121212-1212'}).filter({hasText: 'med nödåtkomst'}).first();
  await emergencyRow.waitFor();
  await emergencyRow.getByRole('textbox', {name: /^Kommentar till åtkomsten/}).fill('Kontrollerad med ansvarig läkare');
  await emergencyRow.getByRole('button', {name: 'Markera granskad'}).click();
  await main().getByText('Kontrollerad med ansvarig läkare').first().waitFor();
  await main().getByLabel('Personnummer').fill('197512303442');
  await main().getByRole('button', {name: 'Visa loggutdrag'}).click();
  await main().locator('ul.extract li', {hasText: 'Vårdcentralen Norr'}).first().waitFor();
  const items = await main().locator('ul.extract li').allTextContents();
  assert.ok(items.some((t) => t.includes('Journalanteckningar') && t.includes('Ditt samtycke')), items.join('\n'));
  const href = await main().getByRole('link', {name: 'Utskriftsvänlig sida'}).getAttribute('href');
  await page.goto(`${box.url}${href}`);
  await page.getByRole('heading', {name: /Loggutdrag/}).waitFor();
  assert.match(await page.locator('body').textContent(), /19751230-3442/);
});
