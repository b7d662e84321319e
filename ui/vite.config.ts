import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The app loads the built files from ui/dist (tauri.conf.json's frontendDist).
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: { target: "safari16", outDir: "dist", emptyOutDir: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
