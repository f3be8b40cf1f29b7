// Browser test of the public registration pages (/e/{code}), run by web/browser-test.sh against a
// demo server, at a phone's width (390 px, as WeChat's browser on a common phone): the form with
// its organiser and privacy notice, the ticket page it leads to, the waitlist said before and
// after submitting, the withdrawal page, and a cancelled event. No horizontal scrolling, no
// console error, no CSP violation. Screenshots land in SCREENSHOT_DIR (public-*.png).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve('target/browser');
const AM = { phone: '13800000004', password: 'outreach-demo-2026' };

mkdirSync(SHOTS, { recursive: true });
const started = Date.now();
const step = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);

async function api(method, url, token, body) {
  const r = await fetch(`${BASE}${url}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// An event with one place, made by the demo account manager at one of their partners.
step('make an event with one place');
const { access_token: token } = await api('POST', '/api/v1/auth/login', null, AM);
const partners = await api('GET', '/api/v1/partners?limit=1', token);
const starts = new Date(Date.now() + 3 * 86_400_000);
const event = await api('POST', '/api/v1/events', token, {
  partner_id: partners.items[0].id,
  title: '反诈宣传进社区',
  theme: 'anti_fraud',
  description: '识别常见电信诈骗手法，现场答疑。',
  starts_at: starts.toISOString(),
  ends_at: new Date(starts.getTime() + 2 * 3_600_000).toISOString(),
  venue: '社区活动中心二楼',
  capacity: 1,
});
const code = event.registration_code;

const profile = mkdtempSync(path.join(tmpdir(), 'outreach-public-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  // WeChat's built-in browser on Android names itself so.
  userAgent:
    'Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49',
});
context.setDefaultTimeout(20_000);
const problems = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  // The 409 of a phone already registered and the 404 of a withdrawn ticket are asserted below;
  // Chromium logs each as a failed load.
  const expected = /Failed to load resource: the server responded with a status of (404|409)/;
  page.on('console', (m) => m.type() === 'error' && !expected.test(m.text()) && problems.push(`console error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const fits = async (name) => {
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    assert.ok(width <= 390, `${name}: the page is ${width} px wide at 390 px`);
    assert.deepEqual(await page.evaluate(() => window.__csp), [], `${name}: CSP violations`);
    await page.screenshot({ path: path.join(SHOTS, `public-${name}.png`), fullPage: true });
  };
  const register = async (name, phone) => {
    await page.goto(`${BASE}/e/${code}`);
    await page.fill('#name', name);
    await page.fill('#phone', phone);
    await page.check('input[name=consent]');
    await Promise.all([page.waitForURL(new RegExp(`/e/${code}/t/[A-Za-z0-9_-]{24}$`)), page.click('button[type=submit]')]);
  };

  step('the registration form names the organiser and the privacy notice');
  await page.goto(`${BASE}/e/${code}`);
  const card = await page.textContent('body');
  assert.match(card, /主办方：.+/);
  assert.match(card, /联系电话：0750-\d{7}/);
  assert.match(card, /剩余名额：1/);
  await page.click('summary');
  assert.match(await page.textContent('details'), /撤回同意并删除个人信息|撤回同意/);
  await fits('form');

  step('register: on to the ticket page, with its QR');
  await register('陈女士', '13912345678');
  const ticketUrl = page.url();
  assert.match(await page.textContent('body'), /报名成功/);
  assert.match(await page.textContent('body'), /收藏本页/);
  const qr = await page.locator('img[alt=签到二维码]').evaluate((img) => img.complete && img.naturalWidth);
  assert.ok(qr > 0, 'the QR image loads');
  await fits('ticket');

  step('the same phone again learns nothing of the ticket');
  await page.goto(`${BASE}/e/${code}`);
  assert.match(await page.textContent('form'), /名额已满/, 'the waitlist is said before submitting');
  assert.equal((await page.textContent('button[type=submit]')).trim(), '加入候补');
  await fits('waitlist-form');
  await page.fill('#name', '冒充者');
  await page.fill('#phone', '13912345678');
  await page.check('input[name=consent]');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('body'), /已经报名/);
  assert.equal(await page.locator('img[alt=签到二维码]').count(), 0);

  step('a second person joins the waitlist: no QR, a place in line');
  await register('李先生', '13912340001');
  const waitUrl = page.url();
  assert.match(await page.textContent('body'), /候补名单第 1 位/);
  assert.equal(await page.locator('img[alt=签到二维码]').count(), 0);
  await fits('waitlisted');

  step('the first cancels from the ticket page; the second moves up');
  await page.goto(ticketUrl);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("取消报名")')]);
  assert.match(await page.textContent('body'), /已取消/);
  await page.goto(waitUrl);
  assert.match(await page.textContent('body'), /报名成功/);

  step('withdrawal: a page that says what is erased, then the erasure');
  await page.click('text=撤回同意并删除我的个人信息');
  assert.match(await page.textContent('body'), /此操作无法恢复/);
  await fits('withdraw');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.match(await page.textContent('body'), /已删除/);
  await fits('withdrawn');
  const gone = await page.goto(waitUrl);
  assert.equal(gone.status(), 404);

  step('a cancelled event says so');
  await api('PATCH', `/api/v1/events/${event.id}`, token, { status: 'cancelled' });
  await page.goto(`${BASE}/e/${code}`);
  assert.match(await page.textContent('body'), /本活动已取消/);
  await fits('cancelled');
  assert.deepEqual(problems, []);
  step('public pages passed');
} finally {
  await context.close();
}
