// Plugin-set administration in the browser: a refused upload shows every check, a
// certified set is stored and activated.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, writeFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startBox, launch, login, signedHelloZip} from './box.mjs';

let box, browser, page, work, signed;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kb-e2e-sets-'));
  signed = signedHelloZip(work, 2);
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
