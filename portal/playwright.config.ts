// Browser tests against a running platform (deploy/local/portal-e2e.sh
// starts one and sets PORTAL_URL and PORTAL_LOGINS). Debian's Chromium:
// browsers cannot be downloaded here. A desktop and a 360 px phone; then
// the year's story (tests/year.spec.ts) on the desktop.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  timeout: 60_000,
  workers: 2,
  outputDir: "test-results",
  use: {
    baseURL: process.env.PORTAL_URL ?? "http://127.0.0.1:8080",
    locale: "ru-RU",
    timezoneId: "Europe/Moscow",
    launchOptions: { executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] },
  },
  projects: [
    { name: "desktop", testIgnore: /year\.spec/, use: { viewport: { width: 1280, height: 800 } } },
    {
      name: "phone",
      testIgnore: /year\.spec/,
      use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
    },
    // The year's story changes the demo for good: after the others, once.
    { name: "year", testMatch: /year\.spec/, dependencies: ["desktop", "phone"], use: { viewport: { width: 1280, height: 800 } } },
  ],
});
