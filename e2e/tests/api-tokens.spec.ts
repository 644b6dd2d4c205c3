// Personal access tokens on the account page: a member creates one (shown once), uses it against
// the JSON API, sees that the browser's own cookie is no API credential, and revokes it.
import { test, expect, request } from '@playwright/test';
import { expectAccessible, people, session } from './helpers';

test('a member creates an API token, uses it once, and revokes it', async ({ browser, baseURL }) => {
  const { page, context } = await session(browser, people.northwind);
  await page.getByRole('link', { name: 'API tokens' }).click();
  await expect(page.locator('h1')).toHaveText('API tokens');
  await expectAccessible(page);

  // A mistake is explained next to its field.
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('.error-summary')).toContainText('Give the token a name');

  await page.getByLabel('Name', { exact: true }).fill('e2e billing system');
  await page.getByLabel(/^read/).check();
  await page.getByLabel(/^transfers:write/).check();
  await page.getByLabel('Expires after (days)').fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('#new-token-value').textContent())!.trim();
  expect(secret).toMatch(/^ipxfer_/);
  await expect(page.locator('#new-token')).toContainText('shown only this once');
  const row = page.locator('table.tokens tr', { hasText: 'e2e billing system' }).first();
  await expect(row).toContainText('read, transfers:write');
  await expect(row).toContainText('active');

  // The token works against the API; the browser's signed-in cookie alone does not.
  const api = await request.newContext({ baseURL });
  const withToken = await api.get('/api/v1/transfers', { headers: { authorization: `Bearer ${secret}` } });
  expect(withToken.status()).toBe(200);
  expect((await withToken.json()).items.length).toBeGreaterThan(0);
  const cookieOnly = await page.request.get('/api/v1/transfers');
  expect(cookieOnly.status()).toBe(401);
  expect(cookieOnly.headers()['content-type']).toBe('application/problem+json');

  // Shown once: a reload lists the token but not its secret.
  await page.goto('/account/tokens');
  await expect(page.locator('main')).not.toContainText(secret);

  await page.getByRole('button', { name: 'Revoke e2e billing system' }).click();
  await expect(page.locator('.banner')).toContainText('is revoked');
  await expect(page.locator('table.tokens tr', { hasText: 'e2e billing system' }).first()).toContainText('revoked');
  const afterRevoke = await api.get('/api/v1/transfers', { headers: { authorization: `Bearer ${secret}` } });
  expect(afterRevoke.status()).toBe(401);
  await api.dispose();
  await context.close();
});
