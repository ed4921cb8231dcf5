import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium, installed by scripts/install-brokers.sh (what `.ci/run` runs). */
export const CHROMIUM_PATH = process.env.KANBAN_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of the browser specs: a CI artifact, ignored by git. */
export const ARTIFACTS_DIR = resolve(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');

/** Headless, and nothing that reaches beyond loopback: no updates, sync, QUIC or background fetches. */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface HeadlessChromium {
  context: BrowserContext;
  /** Writes a full-page screenshot of the context's page to ARTIFACTS_DIR. */
  screenshot: (name: string) => Promise<string>;
  close: () => Promise<void>;
}

/** A chromium with a fresh profile (its own --user-data-dir, removed on close) and one page; `extraArgs` add to the flags. */
export async function launchHeadlessChromium(extraArgs: string[] = []): Promise<HeadlessChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'kanban-dashboard-chromium-'));
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  // launchPersistentContext is how Playwright takes a --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS, ...extraArgs], viewport: { width: 1280, height: 900 } });
  return {
    context,
    screenshot: async (name) => {
      const path = join(ARTIFACTS_DIR, `${name}.png`);
      await context.pages()[0].screenshot({ path, fullPage: true });
      return path;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
