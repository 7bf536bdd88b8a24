// Starts @firestore-emulator/server on the port given as the first argument.
// Usage: node server.js PORT   (the emulator binds 0.0.0.0; stops on SIGTERM/SIGINT)
const { FirestoreServer } = require("@firestore-emulator/server");

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.js PORT");
  process.exit(2);
}

const server = new FirestoreServer();
server.start(port).then(() => console.log(`firestore emulator listening on 0.0.0.0:${port}`));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.stop();
    process.exit(0);
  });
}
