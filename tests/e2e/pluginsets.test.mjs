// Plugin-set administration in the browser: a refused upload shows every check, a
// certified set is stored and activated.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, writeFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {startBox, launch, login, signedHelloZip} from './box.mjs';

const sourceDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let box, browser, page, work, signed;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kb-e2e-sets-'));
  signed = signedHelloZip(work, 2);
  // The region's CRL is due in 3 days: the console warns ahead (the set still runs).
  const pki = dirname(signed.trust);
  execFileSync('openssl', ['ca', '-config', join(sourceDir, 'config', 'demo-region', 'openssl.cnf'), '-batch',
    '-gencrl', '-crldays', '3', '-out', join(signed.trust, 'demo-region', 'crl.pem')],
  {stdio: 'ignore', env: {...process.env, KB_CA_DIR: join(pki, 'ca')}});
  box = await startBox({trustDir: signed.trust});
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
  rmSync(work, {recursive: true, force: true});
});

test('a file that is no certified set is refused with the reason', async () => {
  const junk = join(work, 'junk.zip');
  writeFileSync(junk, 'this is not an archive');
  await page.getByRole('link', {name: 'Tilläggspaket'}).click();
  await page.getByLabel('Ladda upp paket (.zip)').setInputFiles(junk);
  await page.getByRole('button', {name: 'Kontrollera och spara'}).click();
  await page.getByRole('alert').filter({hasText: 'Paketet godtogs inte'}).waitFor();
});

test('a certified set is stored, listed and activated', async () => {
  await page.getByLabel('Ladda upp paket (.zip)').setInputFiles(signed.zip);
  await page.getByRole('button', {name: 'Kontrollera och spara'}).click();
  await page.getByRole('cell', {name: 'sparat'}).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', {name: 'Aktivera'}).click();
  await page.getByRole('cell', {name: 'aktivt'}).waitFor();
  const ready = await page.evaluate(async () => (await fetch('/readyz')).json());
  assert.equal(ready.plugin_set.sequence, 2);
  assert.equal(ready.plugin_set.signed, true);
  assert.equal(ready.plugins[0].state, 'running');
});

test('a CRL due within a week is warned about in the banner while the set runs', async () => {
  await page.reload();
  const banner = page.locator('#banner');
  await banner.filter({hasText: 'spärrlista'}).waitFor();
  assert.match(await banner.textContent(), /måste förnyas inom [0-3] dagar/);
  const ready = await page.evaluate(async () => (await fetch('/readyz')).json());
  assert.equal(ready.plugins[0].state, 'running');
  assert.ok(ready.plugin_set.expiries.some((e) => e.kind === 'crl' && e.warning));
});
