// Starts @firestore-emulator/server on the port given as the first argument.
// Usage: node server.js PORT   (the emulator binds 0.0.0.0; stops on SIGTERM/SIGINT)
const emulator = require("@firestore-emulator/server");

// Speed, same behaviour: the emulator adds a document by copying its collection's whole
// record with immer (`produce`), so each new document costs time in proportion to the
// documents already there (1.6 ms per write at 2,000 documents, 4.8 ms at 6,000). Here a
// new document is added to the record in place; nothing else holds on to that record.
emulator.FirestoreStateCollection.prototype.getDocument = function getDocument(documentName) {
  let document = this.documents[documentName];
  if (!document) {
    if (Object.isFrozen(this.documents)) this.documents = { ...this.documents };
    document = new emulator.FirestoreStateDocument(this.emitter, this.database, this, documentName, {}, {});
    this.documents[documentName] = document;
  }
  return document;
};

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node server.js PORT");
  process.exit(2);
}

const server = new emulator.FirestoreServer();
server.start(port).then(() => console.log(`firestore emulator listening on 0.0.0.0:${port}`));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.stop();
    process.exit(0);
  });
}
