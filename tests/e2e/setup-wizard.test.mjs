// The first-run wizard in the browser (issue 20, "First run"): the setup link the box prints
// at its first start opens a Swedish wizard (clinic, host names and certificate, the region's
// trust anchor, the first admin); a reload goes on where it was; it ends in the console,
// logged in as the new admin.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import tls from 'node:tls';
import {startBox, launch} from './box.mjs';

let box, browser, page;

// The SHA-256 fingerprint of the certificate the box presents on a new connection.
function servedFingerprint(url) {
  const {hostname, port} = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({host: hostname, port: Number(port), rejectUnauthorized: false, servername: undefined}, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

// The field error shown under an input (its aria-describedby).
async function fieldError(input) {
  return page.locator(`#${await input.getAttribute('aria-describedby')}`);
}

before(async () => {
  box = await startBox({firstRun: true});
  ({browser, page} = await launch());
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('the setup link walks the wizard to a logged-in admin, with a new certificate served without restart', async () => {
  const link = box.setupLink();
  assert.ok(link, `no setup link in:\n${box.output()}`);
  await page.goto(link);

  // 1. The clinic: a bad HSA-id is shown next to its field.
  await page.locator('#step-clinic').waitFor();
  await page.locator('#setup-clinic-name').fill('Vårdcentralen Norr');
  const hsa = page.locator('#setup-hsa-id');
  await hsa.fill('SE123');
  await page.locator('#setup-next').click();
  await (await fieldError(hsa)).filter({hasText: 'Det är inget HSA-id'}).waitFor();
  assert.equal(await hsa.getAttribute('aria-invalid'), 'true');
  await hsa.fill('SE2321000016-15CQ');
  await page.locator('#setup-next').click();
  await page.locator('#step-hosts').waitFor();

  // A reload asks the box which steps are done and goes on with the host names.
  await page.reload();
  await page.locator('#step-hosts').waitFor();
  assert.match(await page.locator('#setup-cert-note').textContent(), /självsignerat/);

  // 2. Host names: the public URL follows the first one; the certificate is replaced.
  const before = await servedFingerprint(box.url);
  const {hostname, port} = new URL(box.url);
  await page.locator('#setup-host-names').fill(`${hostname}\nklinikbox.test.local`);
  assert.equal(await page.locator('#setup-public-url').inputValue(), `https://${hostname}:${port}`);
  await page.locator('#setup-next').click();
  const shown = (await page.locator('#setup-fingerprint').textContent()).trim();
  assert.match(shown, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.notEqual(shown, before, 'a new certificate');
  assert.equal(await servedFingerprint(box.url), shown, 'the box serves it on new connections, without a restart');
  assert.match(box.cli(['tls', 'show']), new RegExp(shown));
  await page.locator('#setup-continue').click();

  // 3. The region's trust anchor: a server certificate is refused, the region's root taken.
  await page.locator('#step-trust').waitFor();
  await page.locator('#setup-region').fill('Region Test');
  await page.locator('#setup-region-hsa-id').fill('SE2321000016-RT01');
  const root = page.locator('#setup-root-pem');
  await root.setInputFiles(join(box.dir, 'data', 'tls', 'server.crt'));
  await page.locator('#setup-next').click();
  await (await fieldError(root)).filter({hasText: 'inget CA-rotcertifikat'}).waitFor();
  const ca = join(box.dir, 'region-root.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-days', '30',
    '-subj', '/CN=Region Test Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', join(box.dir, 'region-root.key'), '-out', ca], {stdio: 'ignore'});
  await root.setInputFiles(ca);
  await page.locator('#setup-next').click();

  // 4. The first admin, then the console.
  await page.locator('#step-admin').waitFor();
  assert.match(await page.locator('#setup-note').textContent(), /Förtroendeankaret är installerat/);
  assert.equal(readFileSync(join(box.dir, 'data', 'trust', 'region-test', 'root.pem'), 'utf8'), readFileSync(ca, 'utf8'));
  await page.locator('#setup-username').fill('ida');
  await page.locator('#setup-display-name').fill('Ida Installatör');
  await page.locator('#setup-password').fill('ett långt lösenord 2026');
  await page.locator('#setup-password2').fill('ett långt lösenord 2026');
  await page.locator('#setup-next').click();
  await page.locator('#who').filter({hasText: 'Ida Installatör'}).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(await page.locator('#brand').textContent(), 'Vårdcentralen Norr', 'the console names the clinic the wizard saved');

  // The link is spent: opening it again says the wizard is done.
  await page.goto(link);
  await page.locator('#setup-already').waitFor();
});
