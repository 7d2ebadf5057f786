// The real npm `mailhog` client, unchanged, against Mailsink: every public
// method, with assertions on what comes back, including the decoding the
// client does itself (it relies on raw, still-encoded headers and bodies).
//
// Run by tests/it/npm.rs: MAILSINK_URL is the HTTP base URL, MAILSINK_SMTP the
// SMTP listener as host:port. The tests share one mailbox, so they run one
// after another and each starts by deleting everything.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import mailhogClient from "mailhog";

import { simple, smtpSend } from "./smtp.mjs";

const baseURL = process.env.MAILSINK_URL;
const smtpAddress = process.env.MAILSINK_SMTP;
if (!baseURL || !smtpAddress) {
  throw new Error("set MAILSINK_URL (http://host:port) and MAILSINK_SMTP (host:port)");
}
const { hostname: host, port } = new URL(baseURL);
const mailhog = mailhogClient({ host, port: Number(port) });

const LIMIT = { timeout: 30_000 };

/** A message with an encoded subject, a QP text part, an HTML part and a PDF. */
function rich(subject) {
  return [
    "From: =?UTF-8?B?w4lsb2RpZQ==?= <elodie@shop.example>",
    "To: Bob <bob@example.com>",
    "Cc: carol@example.com",
    "Reply-To: help@shop.example",
    `Subject: =?UTF-8?Q?${subject}=20=E2=9C=93?=`, // the client reads "_" as itself
    "Date: Tue, 02 Jan 2024 03:04:05 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "--outer",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Caf=C3=A9 opens at 9.",
    "--outer",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("<p>Café opens at <b>9</b>.</p>").toString("base64"),
    "--outer",
    'Content-Type: application/pdf; name="menu.pdf"',
    'Content-Disposition: attachment; filename="menu.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("%PDF-1.4\n").toString("base64"),
    "--outer--",
  ];
}

async function reset() {
  const response = await mailhog.deleteAll();
  assert.equal(response.statusCode, 200, "deleteAll answers an empty 200");
}

describe("mailhog client against Mailsink", { concurrency: false }, () => {
  test("messages: newest first, paged, decoded by the client", LIMIT, async () => {
    await reset();
    await smtpSend(smtpAddress, "a@example.test", ["x@example.test"], simple({ subject: "older" }));
    await smtpSend(smtpAddress, "elodie@shop.example", ["bob@example.com", "secret@example.com"], rich("Menu"));

    const all = await mailhog.messages();
    assert.equal(all.total, 2);
    assert.equal(all.count, 2);
    const [latest, older] = all.items;
    assert.equal(older.subject, "older");
    assert.equal(latest.subject, "Menu ✓", "RFC 2047 decoded by the client");
    assert.equal(latest.from, "Élodie <elodie@shop.example>");
    assert.equal(latest.to, "Bob <bob@example.com>");
    assert.equal(latest.cc, "carol@example.com");
    assert.equal(latest.bcc, undefined, "a Bcc stays out of the headers");
    assert.equal(latest.replyTo, "help@shop.example");
    assert.equal(latest.date.toISOString(), "2024-01-02T03:04:05.000Z");
    assert.ok(Math.abs(latest.deliveryDate - Date.now()) < 600_000, `${latest.deliveryDate}`);
    assert.equal(latest.text.trim(), "Café opens at 9.", "quoted-printable decoded");
    assert.equal(latest.html.trim(), "<p>Café opens at <b>9</b>.</p>", "base64 decoded");
    assert.equal(latest.attachments.length, 1);
    const [pdf] = latest.attachments;
    assert.equal(pdf.name, "menu.pdf");
    assert.equal(pdf.type, 'application/pdf; name="menu.pdf"');
    assert.equal(mailhog.decode(pdf.Body, pdf.encoding), "%PDF-1.4\n");
    assert.deepEqual(
      latest.To.map((path) => `${path.Mailbox}@${path.Domain}`),
      ["bob@example.com", "secret@example.com"],
      "the envelope recipients",
    );
    assert.equal(latest.Raw.From, "elodie@shop.example");

    const second = await mailhog.messages(1, 1);
    assert.equal(second.count, 1);
    assert.equal(second.start, 1);
    assert.equal(second.items[0].subject, "older");
  });

  test("search and latestFrom / latestTo / latestContaining", LIMIT, async () => {
    await reset();
    await smtpSend(smtpAddress, "ann@shop.example", ["zoe@example.com"], simple({ subject: "from shop", to: "zoe@example.com" }));
    await smtpSend(smtpAddress, "news@letters.example", ["yan@example.com"], simple({ subject: "newsletter", body: "Unique words here." }));

    const found = await mailhog.search("shop.example", "from");
    assert.deepEqual(found.items.map((m) => m.subject), ["from shop"]);
    const contained = await mailhog.search("Unique words");
    assert.deepEqual(contained.items.map((m) => m.subject), ["newsletter"], "kind defaults to containing");
    assert.equal((await mailhog.search("nothing-like-this")).count, 0);

    assert.equal((await mailhog.latestFrom("news@letters.example")).subject, "newsletter");
    assert.equal((await mailhog.latestTo("zoe@example.com")).subject, "from shop");
    assert.equal((await mailhog.latestContaining("newsletter")).subject, "newsletter");
    assert.equal(await mailhog.latestTo("nobody@example.com"), 0, "no match: the count, 0");
  });

  test("deleteMessage and deleteAll", LIMIT, async () => {
    await reset();
    await smtpSend(smtpAddress, "a@example.test", ["x@example.test"], simple({ subject: "keep" }));
    await smtpSend(smtpAddress, "a@example.test", ["x@example.test"], simple({ subject: "drop" }));
    const { items } = await mailhog.messages();
    const drop = items.find((m) => m.subject === "drop");
    const response = await mailhog.deleteMessage(drop.ID);
    assert.equal(response.statusCode, 200);
    assert.deepEqual((await mailhog.messages()).items.map((m) => m.subject), ["keep"]);
    await reset();
    assert.equal((await mailhog.messages()).total, 0);
  });

  test("releaseMessage is refused: relaying is not configured", LIMIT, async () => {
    await reset();
    await smtpSend(smtpAddress, "a@example.test", ["x@example.test"], simple({ subject: "stay" }));
    const [message] = (await mailhog.messages()).items;
    // The refusal is plain text, which the client cannot parse as JSON.
    await assert.rejects(
      mailhog.releaseMessage(message.ID, { host: "127.0.0.1", port: "25", email: "x@example.test" }),
      SyntaxError,
    );
    assert.equal((await mailhog.messages()).total, 1, "nothing was lost");
  });
});
