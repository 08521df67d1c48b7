// Browser tests against a running platform (deploy/local/portal-e2e.sh
// starts one and sets PORTAL_URL and PORTAL_LOGINS). Debian's Chromium:
// browsers cannot be downloaded here. A desktop and a 360 px phone.
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
    { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
    { name: "phone", use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true } },
  ],
});
