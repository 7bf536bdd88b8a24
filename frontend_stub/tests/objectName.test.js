import assert from "node:assert/strict";
import { test } from "node:test";
import { fileNameOf, makeObjectName, safeBaseName } from "../src/lib/objectName.js";

const fixedCrypto = (byte) => ({ getRandomValues: (array) => array.fill(byte) });
const NOW = new Date("2026-11-21T10:05:02.345Z");

test("object names carry a timestamp, randomness and the original name", () => {
  assert.equal(makeObjectName("cough.wav", NOW, fixedCrypto(0xab)), "web/20261121T100502Z-abababab-cough.wav");
});

test("two uploads of the same file get different names", () => {
  const a = makeObjectName("cough.wav", NOW);
  const b = makeObjectName("cough.wav", NOW);
  assert.notEqual(a, b);
});

test("unsafe file names are reduced to valid object names", () => {
  assert.equal(safeBaseName("../../etc/passwd"), "passwd");
  assert.equal(safeBaseName("my cough (1).wav"), "my_cough_1_.wav");
  assert.equal(safeBaseName("..wav"), "wav");
  assert.equal(safeBaseName(""), "audio");
  assert.equal(safeBaseName("tos\u0000se\n.wav"), "tos_se_.wav");
  assert.equal(safeBaseName("C:\\Users\\me\\cough.ogg"), "cough.ogg");
  const long = makeObjectName(`${"ü".repeat(600)}x.wav`, NOW);
  assert.ok(new TextEncoder().encode(long).length <= 512);
  assert.ok(!long.split("/").includes(".."));
});

test("the visitor's file name is read back from a final object name", () => {
  const name = makeObjectName("my cough.wav", NOW, fixedCrypto(0x01));
  assert.equal(fileNameOf(`users/uid-a/${name}`), "my_cough.wav");
  assert.equal(fileNameOf(name), "my_cough.wav");
  assert.equal(fileNameOf("users/uid-a/2026/clinic-07.wav"), "clinic-07.wav");
  assert.equal(fileNameOf("plain.wav"), "plain.wav");
});
