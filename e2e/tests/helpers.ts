// What every journey needs: signing in as a demo user, reading real e-mails from MailDev,
// filing through the form, accessibility checks with axe-core, and the user guide's pictures.
import { Browser, BrowserContext, Page, APIRequestContext, expect, request, test } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD = 'ipxfer-demo-password';
export const MAILDEV = 'http://127.0.0.1:1080';

/** The demo's people (see `ipxfer seed demo`). */
export const people = {
  northwind: 'ana@northwind.example', // ARIN
  meridian: 'ben@meridian.example', // ARIN
  greatlakes: 'chloe@greatlakes.example', // ARIN
  rhone: 'damien@rhone-fibre.example', // RIPE NCC
  thames: 'emma@thames.example', // RIPE NCC
  yangtze: 'gao@yangtze.example', // APNIC
  arin1: 'hm1@arin.example',
  arin2: 'hm2@arin.example',
  ripe1: 'hm1@ripencc.example',
  auditor: 'auditor@ipxfer.example',
  admin: 'admin@ipxfer.example',
};

/** Whether the test runs in the phone project (390 x 844). */
export function onPhone(): boolean {
  return test.info().project.name === 'phone';
}

/** A fresh browser session for one person, signed in, with the project's screen. */
export async function session(browser: Browser, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await signIn(page, email);
  return { context, page };
}

/** A browser context with the project's screen (viewport, touch, scale): `browser.newContext()`
 * alone would not apply the project's `use` options. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const { viewport, isMobile, hasTouch, deviceScaleFactor, userAgent } = test.info().project.use;
  return browser.newContext({ viewport, isMobile, hasTouch, deviceScaleFactor, userAgent });
}

export async function signIn(page: Page, email: string): Promise<void> {
  if (!page.url().includes('/login')) {
    await page.goto('/login');
  }
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.account')).toBeVisible();
}

/** Files a transfer with the form; returns the transfer page's path and reference. */
export async function fileTransfer(
  page: Page,
  recipient: string,
  blocks: string,
  opts: { agreement?: boolean; price?: string } = {},
): Promise<{ path: string; reference: string }> {
  await page.goto('/transfers/new');
  await chooseRecipient(page, recipient);
  await page.getByLabel('Blocks to transfer').fill(blocks);
  if (opts.price) {
    await page.getByLabel('Agreed price (optional)').fill(opts.price);
  }
  if (opts.agreement ?? true) {
    await page.getByLabel(/Transfer agreement/).setInputFiles({
      name: 'agreement.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.7\n% a signed transfer agreement\n'),
    });
    await page.getByLabel(/Company registration/).setInputFiles({
      name: 'registration.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.7\n% company registration\n'),
    });
  }
  await page.getByRole('button', { name: 'File transfer' }).click();
  await expect(page.locator('.banner')).toContainText('filed');
  const reference = (await page.locator('h1').innerText()).split(/\s/)[0];
  return { path: new URL(page.url()).pathname, reference };
}

export async function chooseRecipient(page: Page, name: string): Promise<void> {
  const value = await page.locator('#recipient option', { hasText: name }).first().getAttribute('value');
  expect(value, `recipient ${name} is offered`).toBeTruthy();
  await page.locator('#recipient').selectOption(value!);
}

/** Accepts as the recipient with RIPE NCC's plan (or ARIN's need) filled in. */
export async function accept(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.getByLabel('What the addresses are for').fill('Broadband growth in our region');
  if (await page.locator('#horizon_months').count()) {
    await page.locator('#horizon_months').fill('24');
  }
  if (await page.locator('#utilisation_percent').count()) {
    await page.locator('#utilisation_percent').fill('80');
  }
  await page.getByRole('button', { name: 'Accept the transfer' }).click();
  await expect(page.locator('.banner')).toContainText('You accepted');
}

export async function approve(page: Page, path: string, side: 'source' | 'recipient'): Promise<void> {
  await page.goto(path);
  await page.getByRole('button', { name: `Approve the ${side} side` }).click();
  await expect(page.locator('.banner')).toContainText(`approved the ${side} side`);
}

/** ARIN holds a source that received space within twelve months (Meridian, in the demo): the
 * hostmaster records that ARIN-2020-6 applies, with a reason, before approving. */
export async function recordSwapException(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Why ARIN-2020-6 applies').fill('Renumbered into the smaller block it received before releasing this one.');
  await page.getByRole('button', { name: 'Record that ARIN-2020-6 applies' }).click();
  await expect(page.locator('.banner')).toContainText('The exception is recorded');
}

export async function confirmFeesAndFinalize(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.getByRole('button', { name: 'Confirm the fees are paid' }).click();
  await expect(page.locator('.banner')).toContainText('Fees');
  await page.getByRole('link', { name: 'Finalize…' }).click();
  await page.getByRole('button', { name: 'Finalize the transfer' }).click();
}

// ---- E-mail, read back from MailDev's API ----

export interface Mail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  headers: Record<string, string>;
}

let api: APIRequestContext | undefined;
async function maildev(): Promise<APIRequestContext> {
  api ??= await request.newContext({ baseURL: MAILDEV });
  return api;
}

export async function allMail(): Promise<Mail[]> {
  const res = await (await maildev()).get('/api/email');
  expect(res.ok()).toBeTruthy();
  return (await res.json()) as Mail[];
}

/** Waits for a message to `address` whose subject contains `subject` (the worker sends every few seconds). */
export async function mailTo(address: string, subject: string, timeout = 45_000): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        found = (await allMail()).find(
          (m) => m.to.some((t) => t.address === address) && m.subject.includes(subject),
        );
        return found !== undefined;
      },
      { timeout, intervals: [500, 1000, 2000], message: `an e-mail to ${address} about "${subject}"` },
    )
    .toBe(true);
  return found!;
}

/** Every message to `address` about `subject`. */
export async function mailsTo(address: string, subject: string): Promise<Mail[]> {
  return (await allMail()).filter((m) => m.to.some((t) => t.address === address) && m.subject.includes(subject));
}

/** The first link into ipxfer in a message's text. */
export function linkIn(mail: Mail): string {
  const m = mail.text.match(/https?:\/\/127\.0\.0\.1:3000\/\S+/);
  expect(m, `a link in: ${mail.text}`).toBeTruthy();
  return m![0].replace(/[.,)>]+$/, '');
}

// ---- Accessibility and pictures ----

/** No serious or critical axe-core violation on the page as it stands. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `accessibility of ${page.url()}`).toEqual([]);
}

/** The page scrolls only downwards: the document is no wider than the viewport. */
export async function expectFits(page: Page): Promise<void> {
  const { document, viewport } = await page.evaluate(() => ({
    document: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
  expect(document, `width of ${page.url()} at ${viewport} px`).toBeLessThanOrEqual(viewport);
}

/** Saves a picture for the user guide (docs/screenshots/): the whole page on a desktop; on the
 * phone its first screen, what a person sees on opening it, as `<name>-phone.png`. */
export async function picture(page: Page, name: string): Promise<void> {
  const dir = join(__dirname, '..', '..', 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  const phone = onPhone();
  await page.screenshot({ path: join(dir, `${name}${phone ? '-phone' : ''}.png`), fullPage: !phone });
}
