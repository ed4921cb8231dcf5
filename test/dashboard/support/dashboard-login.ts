import type { Page } from 'playwright-core';

/** Bound of a wait for the page to show something; generous for a loaded machine. */
export const UI_TIMEOUT_MS = 15_000;

/** Logs in on the dashboard's login page and waits until the header shows `role`. */
export async function logInAs(page: Page, dashboardUrl: string, token: string, role: string): Promise<void> {
  await page.goto(dashboardUrl);
  await page.locator('#token').fill(token);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#role').filter({ hasText: role }).waitFor({ timeout: UI_TIMEOUT_MS });
}
