import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// `npm run dev` has no local stack in front of it: serve /config.json from RESULTS_API_URL
// (e.g. after `set -a; . ../.local/stack.env`), as the stack does for the built page.
const devConfigJson = {
  name: "coughcloud-dev-config",
  configureServer(server) {
    server.middlewares.use("/config.json", (_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ apiUrl: process.env.RESULTS_API_URL ?? "" }));
    });
  },
};

export default defineConfig({
  // Relative asset paths: the built page works wherever dist/ is served from.
  base: "./",
  plugins: [vue(), devConfigJson],
  build: { outDir: "dist", emptyOutDir: true },
});
