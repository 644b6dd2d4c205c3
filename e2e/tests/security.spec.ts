// Security at the surface: another organisation's transfer looks like one that does not exist,
// a forged form is refused, and signing out ends the session.
import { test, expect } from '@playwright/test';
import { people, session } from './helpers';

test("a member of an unrelated organisation gets 404 on another's transfer", async ({ browser }) => {
  const owner = await session(browser, people.northwind);
  await owner.page.goto('/transfers?show=all');
  const href = await owner.page.locator('#transfers a[href^="/transfers/"]').first().getAttribute('href');
  const outsider = await session(browser, people.yangtze);
  const res = await outsider.page.goto(href!);
  // Not "forbidden": the same answer as for a number that does not exist.
  expect(res!.status()).toBe(404);
  await expect(outsider.page.locator('h1')).toHaveText('Page not found');
  await expect(outsider.page.locator('main')).toContainText('that you may see');
  await owner.context.close();
  await outsider.context.close();
});

test('a form posted without a valid CSRF token is refused', async ({ browser }) => {
  const { page, context } = await session(browser, people.northwind);
  await page.goto('/transfers/new');
  await page
    .locator('form[action="/transfers/new"] input[name=csrf_token]')
    .evaluate((el) => ((el as HTMLInputElement).value = 'forged'));
  await page.getByLabel('Blocks to transfer').fill('3.6.0.0/22');
  await page.getByRole('button', { name: 'File transfer' }).click();
  await expect(page.locator('h1')).toHaveText('You cannot do this');
  await expect(page.locator('main')).toContainText('did not come from ipxfer');
  // A cross-site POST is stopped before any handler by the Fetch Metadata check.
  const res = await page.request.post('/logout', {
    headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    form: { csrf_token: 'x' },
  });
  expect(res.status()).toBe(403);
  expect(await res.text()).toContain('from another site');
  await context.close();
});

test('signing out ends the session', async ({ browser }) => {
  const { page, context } = await session(browser, people.northwind);
  await page.goto('/transfers');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/transfers');
  await expect(page).toHaveURL(/\/login\?next=/);
  await context.close();
});
