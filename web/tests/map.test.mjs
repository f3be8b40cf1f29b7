// Browser test of the manager map page, run by web/browser-test.sh against a demo server:
// log in as the demo branch manager, see clusters, zoom until markers appear, open a partner
// popup, check that a filter changes the count, follow an overdue partner, and see no console
// error and no CSP violation. Never downloads a browser: it drives the system Chromium.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

const MAP_URL = process.env.MAP_URL || 'http://127.0.0.1:8080/map';
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve('target/browser');
const PHONE = process.env.MAP_PHONE || '13800000001';
const PASSWORD = process.env.MAP_PASSWORD || 'outreach-demo-2026';
const PARTNER_STATUSES = ['潜在', '已接触', '洽谈中', '已签约', '合作中', '已暂停', '已终止'];

mkdirSync(SHOTS, { recursive: true });
const profile = mkdtempSync(path.join(tmpdir(), 'outreach-chromium-'));
const started = Date.now();
const step = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
});
context.setDefaultTimeout(20_000);

const problems = [];
let page;
try {
  page = context.pages()[0] || (await context.newPage());
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${why}`); // stale requests are aborted on purpose
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });

  // The page and its files: headers.
  step(`open ${MAP_URL}`);
  const response = await page.goto(MAP_URL);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers['content-type'], /^text\/html/);
  assert.match(headers['content-security-policy'], /script-src 'self'/);
  assert.doesNotMatch(headers['content-security-policy'], /unsafe-inline|unsafe-eval/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  const origin = new URL(MAP_URL).origin;
  for (const [file, type] of [['leaflet.js', 'text/javascript'], ['map.js', 'text/javascript'], ['map.css', 'text/css'], ['leaflet.css', 'text/css']]) {
    const r = await context.request.get(`${origin}/map/assets/${file}`);
    assert.equal(r.status(), 200, file);
    assert.ok(r.headers()['content-type'].startsWith(type), `${file}: ${r.headers()['content-type']}`);
    assert.equal(r.headers()['x-content-type-options'], 'nosniff');
  }
  const missing = await context.request.get(`${origin}/map/assets/nope.js`);
  assert.equal(missing.status(), 404);
  assert.match(missing.headers()['content-type'], /application\/problem\+json/);

  // Log in.
  step('log in as the demo branch manager');
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.screenshot({ path: path.join(SHOTS, 'login.png') });
  await page.fill('#login-phone', PHONE);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.body.dataset.state === 'idle' && Number(document.body.dataset.loads || 0) >= 1);
  await page.waitForFunction(() => document.querySelectorAll('#territory-table tbody tr').length > 0);

  // Clusters.
  const clusters = await page.locator('.om-cluster').count();
  step(`${clusters} clusters at zoom ${await zoom()}`);
  assert.ok(clusters > 0, 'clusters are drawn');
  const territories = await page.locator('#territory-table tbody tr').count();
  assert.equal(territories, 3, 'three sub-branch territories');
  const overdue = await page.locator('[data-testid=overdue-item]').count();
  assert.ok(overdue > 0, 'overdue partners are listed');
  const total = await count();
  assert.ok(total > 0, 'the count shows the points in view');
  await page.screenshot({ path: path.join(SHOTS, 'map-overview.png') });

  // Zoom by clicking partner clusters until single partners appear.
  const startZoom = await zoom();
  for (let i = 0; i < 10 && (i === 0 || (await visiblePoints('om-point-partners')) < 12); i++) {
    const target = await page.evaluate(() => {
      const box = document.getElementById('map').getBoundingClientRect();
      let best = null;
      for (const c of document.querySelectorAll('.om-cluster-partners')) {
        const r = c.getBoundingClientRect();
        const x = r.left + r.width / 2;
        const y = r.top + r.height / 2;
        if (x < box.left + 20 || x > box.right - 20 || y < box.top + 20 || y > box.bottom - 20) continue;
        const n = Number(c.querySelector('.core').textContent);
        if (!best || n > best.n) best = { x, y, n };
      }
      return best;
    });
    if (!target) break;
    const before = await loads();
    step(`click a cluster of ${target.n} partners`);
    await page.mouse.click(target.x, target.y);
    await waitForLoad(before);
  }
  const points = await visiblePoints('om-point-partners');
  step(`${points} partner markers at zoom ${await zoom()}`);
  assert.ok((await zoom()) > startZoom, 'clicking a cluster zooms in');
  assert.ok(points > 0, 'individual partner markers appear after zooming in');
  await page.screenshot({ path: path.join(SHOTS, 'map-markers.png') });

  // A partner popup, with its status.
  const spot = await page.evaluate(() => {
    const box = document.getElementById('map').getBoundingClientRect();
    for (const p of document.querySelectorAll('path.om-point-partners')) {
      const r = p.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (x < box.left + 30 || x > box.right - 30 || y < box.top + 30 || y > box.bottom - 30) continue;
      if (document.elementFromPoint(x, y) === p) return { x, y };
    }
    return null;
  });
  assert.ok(spot, 'a partner marker can be clicked');
  await page.mouse.click(spot.x, spot.y);
  const popup = page.locator('[data-testid=partner-popup]');
  await popup.waitFor({ state: 'visible' });
  await settle();
  const status = (await popup.locator('[data-testid=popup-status]').textContent()).trim();
  const name = (await popup.locator('.pp-title').textContent()).trim();
  step(`popup of ${name}: ${status}`);
  assert.ok(PARTNER_STATUSES.includes(status), `the popup shows the partner's status (got "${status}")`);
  await page.waitForFunction(() => document.body.dataset.state === 'idle');
  await page.screenshot({ path: path.join(SHOTS, 'map-popup.png') });

  // A filter changes the count: untick the category of the partner just opened.
  const category = await page.evaluate(() => {
    const chip = document.querySelector('[data-testid=partner-popup] .chip:not([data-testid]) ');
    return chip ? chip.textContent.trim() : null;
  });
  assert.ok(category, 'the popup names the category');
  const countBefore = await count();
  const partnersBefore = await count('count-partners');
  const box = page.locator('#category-list label', { hasText: category }).locator('input');
  const categoryId = await box.getAttribute('data-category');
  let before = await loads();
  await box.uncheck();
  // Not any load: one began before the click (the popup panned the map) may land after it.
  await waitForLoad(before, { category: categoryId, shown: false });
  const countAfter = await count();
  const partnersAfter = await count('count-partners');
  step(`untick ${category}: ${countBefore} → ${countAfter} points in view (partners ${partnersBefore} → ${partnersAfter})`);
  assert.ok(countAfter < countBefore, 'unticking a category lowers the count');
  assert.ok(partnersAfter < partnersBefore, 'and the partners in view');
  await page.screenshot({ path: path.join(SHOTS, 'map-filtered.png') });
  before = await loads();
  await box.check();
  await waitForLoad(before, { category: categoryId, shown: true });
  assert.equal(await count(), countBefore, 'ticking it again restores the count');

  // A layer too: visits are off at first.
  before = await loads();
  await page.locator('#layer-visits').check();
  await waitForLoad(before);
  const withVisits = await count();
  step(`tick visits: ${countBefore} → ${withVisits} points in view`);
  assert.ok(withVisits > countBefore, 'ticking the visits layer raises the count');
  await page.screenshot({ path: path.join(SHOTS, 'map-visits.png') });
  before = await loads();
  await page.locator('#layer-visits').uncheck();
  await waitForLoad(before);
  assert.equal(await count(), countBefore, 'unticking it restores the count');

  // The overdue list pans the map to the partner and opens its popup.
  const first = page.locator('[data-testid=overdue-item]').first();
  const overdueId = await first.getAttribute('data-partner-id');
  const overdueName = (await first.locator('.title').textContent()).trim();
  step(`follow the overdue partner ${overdueName}`);
  before = await loads();
  await first.click();
  await page.locator(`[data-testid=partner-popup][data-partner-id="${overdueId}"]`).waitFor({ state: 'visible' });
  await waitForLoad(before);
  await settle();
  const centre = await page.evaluate(() => window.__outreachMap.getCenter());
  const target = await page.evaluate(() => window.__outreachMap.getZoom());
  assert.ok(target >= 16, `zoomed in on the overdue partner (zoom ${target})`);
  step(`map centred at ${centre.lat.toFixed(4)}, ${centre.lng.toFixed(4)}`);
  await page.screenshot({ path: path.join(SHOTS, 'map-overdue.png') });

  // Photo thumbnails: open a partner whose recent visit has a photo (found through the API the
  // phone app syncs with), by clicking its marker. This is the screenshot of record.
  const withPhoto = await page.evaluate(async () => {
    const session = JSON.parse(sessionStorage.getItem('outreach.map.session'));
    const get = async (path) => {
      const r = await fetch(path, { headers: { authorization: `Bearer ${session.access_token}` } });
      if (!r.ok) throw new Error(`${path}: ${r.status}`);
      return r.json();
    };
    let cursor = null;
    for (let page = 0; page < 20; page++) {
      const pulled = await get('/api/v1/sync/pull?limit=1000' + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
      for (const photo of pulled.changes.visit_photos.created || []) {
        const visit = await get(`/api/v1/visits/${photo.visit_id}`);
        if (!visit.partner_id) continue;
        const partner = await get(`/api/v1/partners/${visit.partner_id}`);
        return { id: partner.id, name: partner.name, lat: partner.location.lat, lon: partner.location.lon };
      }
      if (!pulled.has_more) return null;
      cursor = pulled.cursor;
    }
    return null;
  });
  assert.ok(withPhoto, 'the demo has a partner visit with a photo');
  await page.evaluate(() => window.__outreachMap.closePopup());
  before = await loads();
  await page.evaluate(([lat, lon]) => window.__outreachMap.setView([lat, lon], 15, { animate: false }), [withPhoto.lat, withPhoto.lon]);
  await waitForLoad(before);
  if (!(await markerAt(withPhoto))) {
    before = await loads();
    await page.evaluate(() => window.__outreachMap.setZoom(17, { animate: false }));
    await waitForLoad(before);
  }
  const at = await markerAt(withPhoto);
  assert.ok(at, `the marker of ${withPhoto.name} is on the map`);
  step(`open ${withPhoto.name}, which has photos`);
  await page.mouse.click(at.x, at.y);
  const photoPopup = page.locator(`[data-testid=partner-popup][data-partner-id="${withPhoto.id}"]`);
  await photoPopup.waitFor({ state: 'visible' });
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('[data-testid=popup-photos] img')];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'));
  });
  const thumbs = await photoPopup.locator('[data-testid=popup-photos] img').count();
  step(`${thumbs} thumbnail(s) shown`);
  // Step back to see the neighbourhood around the popup.
  before = await loads();
  await page.evaluate(([lat, lon]) => {
    const map = window.__outreachMap;
    map.setView([lat, lon], 14, { animate: false });
    map.panBy([0, -180], { animate: false }); // room for the popup above its marker
  }, [withPhoto.lat, withPhoto.lon]);
  await waitForLoad(before);
  await settle();
  await page.screenshot({ path: path.join(SHOTS, 'map.png') });

  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, [], 'no Content-Security-Policy violation');
  assert.deepEqual(problems, [], 'no console error, failed request or error response');
  step(`passed; screenshots in ${SHOTS}`);
} catch (e) {
  if (page) await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => {});
  console.error(e);
  if (problems.length) console.error('problems seen by the page:\n  ' + problems.join('\n  '));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

/// Lets popup fades and marker transitions end before a screenshot.
async function settle() {
  await page.waitForTimeout(350);
}

/// Where a partner's own marker is on screen, if it is drawn there as a single point.
async function markerAt(partner) {
  return page.evaluate(({ lat, lon }) => {
    const map = window.__outreachMap;
    const rect = map.getContainer().getBoundingClientRect();
    const p = map.latLngToContainerPoint([lat, lon]);
    const x = rect.left + p.x;
    const y = rect.top + p.y;
    const hit = document.elementFromPoint(x, y);
    return hit && hit.classList.contains('om-point-partners') ? { x, y } : null;
  }, partner);
}

async function zoom() {
  return page.evaluate(() => window.__outreachMap.getZoom());
}

async function loads() {
  return page.evaluate(() => Number(document.body.dataset.loads || 0));
}

// Waits for a load after `before` to land and, when `filter` is given, for one that did (or did
// not) show `filter.category`, as the page records on each landed load.
async function waitForLoad(before, filter) {
  await page.waitForFunction(
    ([n, f]) => {
      const body = document.body.dataset;
      const landed = Number(body.loads || 0) > n && body.state === 'idle';
      return landed && (!f || (body.categories || '').split(',').includes(f.category) === f.shown);
    },
    [before, filter || null],
  );
}

async function count(testid = 'visible-count') {
  const text = await page.locator(`[data-testid=${testid}]`).textContent();
  const n = Number(text.replace(/[^\d]/g, ''));
  assert.ok(Number.isFinite(n) && /\d/.test(text), `${testid} shows a number (got "${text}")`);
  return n;
}

async function visiblePoints(kind) {
  return page.evaluate((cls) => {
    const box = document.getElementById('map').getBoundingClientRect();
    return [...document.querySelectorAll('.' + cls)].filter((p) => {
      const r = p.getBoundingClientRect();
      return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
    }).length;
  }, kind);
}
