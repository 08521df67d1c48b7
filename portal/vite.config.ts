// The portal is plain static files the gateway serves at `/`; the API
// stays under `/api/v1`. Nothing is loaded from elsewhere (regional
// intranets): no CDN, no web fonts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/",
  // Preact's JSX runtime (tsconfig's jsxImportSource) without a plugin.
  oxc: { jsx: { importSource: "preact" } },
  build: { outDir: "dist", target: "es2020", sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:8080", "/verify": "http://127.0.0.1:8080" } },
  test: { include: ["src/**/*.test.ts"] },
});
