// Browser tests of ipxfer: Debian's Chromium (never a downloaded browser), the real `ipxfer`
// binary on a fresh SQLite database seeded with the demo, and MailDev as its SMTP server.
// Both servers are started and stopped by Playwright itself. Run from e2e/: `npx playwright test`.
import { defineConfig, devices } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Workers re-read this file: the folder is chosen once, in the main process, and inherited.
process.env.IPXFER_E2E_DIR ??= mkdtempSync(join(tmpdir(), 'ipxfer-e2e-'));
const dir = process.env.IPXFER_E2E_DIR;
const binary = process.env.IPXFER_BIN ?? '../target/debug/ipxfer';
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

const launchOptions = {
  executablePath: chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
};

export const APP = 'http://127.0.0.1:3000';
export const MAILDEV = 'http://127.0.0.1:1080';

export default defineConfig({
  testDir: './tests',
  // The journeys share one seeded database and one mailbox, so they run one after another.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: join(dir, 'test-results'),
  use: {
    baseURL: APP,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'debian-chromium',
      use: { ...devices['Desktop Chrome'], launchOptions },
    },
    {
      // A common phone (390 x 844): the golden journey and every role's main pages, each checked
      // to be no wider than the screen, with axe-core, and pictured for the user guide.
      name: 'phone',
      testMatch: /(golden|pages)\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 1,
        launchOptions,
      },
    },
  ],
  webServer: [
    {
      command: `./node_modules/.bin/maildev --smtp 1025 --ip 127.0.0.1 --web 1080 --web-ip 127.0.0.1 --mail-directory ${join(dir, 'mail')}`,
      url: `${MAILDEV}/api/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `${binary} serve --demo --addr 127.0.0.1:3000 --database-url sqlite://${join(dir, 'e2e.db')}?mode=rwc`,
      url: `${APP}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: { SMTP_URL: 'smtp://127.0.0.1:1025', RUST_LOG: 'warn' },
      stdout: 'pipe',
    },
  ],
});
