import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// `npm run dev` has no local stack in front of it: serve /config.json from the stack's variables
// (after `set -a; . ../.local/stack.env`), as the stack does for the built page.
function configFromEnv(env) {
  const emulator = env.FIREBASE_AUTH_EMULATOR_HOST; // bare host:port
  const project = env.GOOGLE_CLOUD_PROJECT ?? "";
  return {
    apiUrl: env.RESULTS_API_URL ?? "",
    firebase: {
      apiKey: env.FIREBASE_API_KEY ?? "",
      authDomain: `${project}.firebaseapp.com`,
      projectId: project,
      ...(emulator ? { authEmulatorUrl: `http://${emulator}` } : {}),
    },
  };
}

const devConfigJson = {
  name: "coughcloud-dev-config",
  configureServer(server) {
    server.middlewares.use("/config.json", (_req, res) => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(configFromEnv(process.env)));
    });
  },
};

export default defineConfig({
  // Relative asset paths: the built page works wherever dist/ is served from.
  base: "./",
  plugins: [vue(), devConfigJson],
  build: { outDir: "dist", emptyOutDir: true },
});
