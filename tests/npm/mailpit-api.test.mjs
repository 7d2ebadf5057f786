// The real npm `mailpit-api` client, unchanged, against Mailsink: every public
// method of MailpitClient, with assertions on what comes back. Mail arrives
// over SMTP from the small client below (node:net only) or through the
// client's own sendMessage.
//
// Run by tests/it/npm.rs: MAILSINK_URL is the HTTP base URL, MAILSINK_SMTP the
// SMTP listener as host:port. The tests share one mailbox, so they run one
// after another and each starts by deleting everything.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { deflateSync } from "node:zlib";

import { MailpitClient } from "mailpit-api";

import { simple, smtpSend as deliver } from "./smtp.mjs";

const baseURL = process.env.MAILSINK_URL;
const smtpAddress = process.env.MAILSINK_SMTP;
if (!baseURL || !smtpAddress) {
  throw new Error("set MAILSINK_URL (http://host:port) and MAILSINK_SMTP (host:port)");
}

const mailpit = new MailpitClient(baseURL);

// ---------------------------------------------------------------------------
// SMTP

/** Delivers `lines` from `from` to every address in `to`; returns the ID. */
const smtpSend = (from, to, lines) => deliver(smtpAddress, from, to, lines);

/** Sends simple messages one after another; returns their IDs, oldest first. */
async function sendSimple(...subjects) {
  const ids = [];
  for (const subject of subjects) {
    ids.push(await smtpSend("sender@example.test", ["rcpt@example.test"], simple({ subject })));
  }
  return ids;
}

// ---------------------------------------------------------------------------
// Fixtures

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) {
      crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real PNG: `width`×`height`, one RGB colour. */
function png(width, height, [r, g, b]) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "latin1");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) {
    row.set([r, g, b], 1 + x * 3);
  }
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Width and height from a JPEG's SOFn segment. */
function jpegSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], "a JPEG starts with FF D8 (SOI)");
  let at = 2;
  while (at + 9 < bytes.length) {
    assert.equal(bytes[at], 0xff, `a JPEG marker at offset ${at}`);
    const marker = bytes[at + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  assert.fail("no SOF segment in the JPEG");
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const md5 = (bytes) => createHash("md5").update(bytes).digest("hex");
const sha1 = (bytes) => createHash("sha1").update(bytes).digest("hex");
const lf = (text) => text.replaceAll("\r\n", "\n");
const blobBytes = async (blob) => Buffer.from(await blob.arrayBuffer());
const b64lines = (bytes) => bytes.toString("base64").match(/.{1,76}/g);

const NOTES = Buffer.from("Line one of the notes.\nLine two: 100% ✓ done.\n", "utf8");
const PICTURE = png(360, 240, [200, 30, 30]);
const LOGO = png(40, 20, [20, 90, 200]);

/**
 * A message with everything: an encoded subject, display names, Cc, an
 * envelope-only recipient, repeated and folded headers, text and HTML
 * alternatives (the text has a line that starts with a dot) and two
 * attachments. Parts: 1 (1.1 text, 1.2 HTML), 2 notes.txt, 3 picture.png.
 */
const RICH = [
  'From: "Alice Example" <alice@example.test>',
  "To: Bob Builder <bob@example.test>, carol@example.test",
  "Cc: Dave <dave@example.test>",
  "Reply-To: replies@example.test",
  `Subject: =?UTF-8?B?${Buffer.from("Grüße from the npm client").toString("base64")}?=`,
  "Date: Tue, 02 Jan 2024 03:04:05 +0000",
  "Message-ID: <rich-1@npm.test>",
  "MIME-Version: 1.0",
  "X-Repeated: first",
  "X-Repeated: second",
  "X-Folded: part one",
  " part two",
  "List-Unsubscribe: <mailto:unsub@example.test?subject=stop>, <https://example.test/unsub?u=1>",
  "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
  'Content-Type: multipart/mixed; boundary="mixed-boundary"',
  "",
  "--mixed-boundary",
  'Content-Type: multipart/alternative; boundary="alt-boundary"',
  "",
  "--alt-boundary",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Plain body line.",
  ".A line that starts with a dot.",
  "--alt-boundary",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>HTML <b>body</b> with a <a href=\"https://example.test/confirm\">link</a>.</p>",
  "--alt-boundary--",
  "--mixed-boundary",
  'Content-Type: text/plain; charset=utf-8; name="notes.txt"',
  'Content-Disposition: attachment; filename="notes.txt"',
  "Content-Transfer-Encoding: base64",
  "",
  ...b64lines(NOTES),
  "--mixed-boundary",
  'Content-Type: image/png; name="picture.png"',
  'Content-Disposition: attachment; filename="picture.png"',
  "Content-Transfer-Encoding: base64",
  "",
  ...b64lines(PICTURE),
  "--mixed-boundary--",
];
const RICH_RECIPIENTS = [
  "bob@example.test",
  "carol@example.test",
  "dave@example.test",
  "hidden@example.test",
];

/** Asserts that `promise` (a client call) rejects with this HTTP status. */
async function rejectsWith(promise, status, path, text) {
  await assert.rejects(promise, (error) => {
    assert.match(error.message, new RegExp(`^Mailpit API Error: ${status} `));
    assert.ok(error.message.includes(path), `${error.message} names ${path}`);
    if (text) {
      assert.ok(error.message.includes(text), `${error.message} says ${text}`);
    }
    return true;
  });
}

async function reset() {
  await mailpit.deleteMessages();
  assert.equal((await mailpit.listMessages()).total, 0, "the mailbox is empty");
}

const address = (Name, Address) => ({ Name, Address });

// ---------------------------------------------------------------------------

/** No test may hang the run: each gets 30 s. */
const LIMIT = { timeout: 30_000 };

describe("mailpit-api against Mailsink", { concurrency: false }, () => {
  test("getInfo and getConfiguration", LIMIT, async () => {
    await reset();
    const before = await mailpit.getInfo();
    await sendSimple("Info one", "Info two");
    await mailpit.setReadStatus({ Search: 'subject:"Info one"', Read: true });
    const info = await mailpit.getInfo();
    assert.equal(info.Messages, 2);
    assert.equal(info.Unread, 1);
    assert.equal(typeof info.Version, "string");
    assert.ok(info.Version.length > 0, "a version");
    assert.equal(typeof info.LatestVersion, "string");
    assert.equal(typeof info.Database, "string");
    assert.ok(info.DatabaseSize > 0, "a database size");
    assert.deepEqual(info.Tags, {});
    const stats = info.RuntimeStats;
    assert.equal(stats.SMTPAccepted - before.RuntimeStats.SMTPAccepted, 2);
    assert.ok(stats.SMTPAcceptedSize > before.RuntimeStats.SMTPAcceptedSize);
    for (const key of ["Uptime", "Memory", "MessagesDeleted", "SMTPRejected", "SMTPIgnored"]) {
      assert.equal(typeof stats[key], "number", `RuntimeStats.${key}`);
    }
    await mailpit.deleteMessages();
    const after = await mailpit.getInfo();
    assert.equal(after.Messages, 0);
    assert.equal(after.RuntimeStats.MessagesDeleted - stats.MessagesDeleted, 2);

    const config = await mailpit.getConfiguration();
    assert.equal(typeof config.Label, "string");
    assert.equal(config.MessageRelay.Enabled, false);
    for (const key of [
      "SMTPServer",
      "ReturnPath",
      "AllowedRecipients",
      "BlockedRecipients",
      "OverrideFrom",
      "RecipientAllowlist",
    ]) {
      assert.equal(typeof config.MessageRelay[key], "string", `MessageRelay.${key}`);
    }
    assert.equal(config.MessageRelay.PreserveMessageIDs, false);
    assert.equal(config.SpamAssassin, false);
    assert.equal(config.ChaosEnabled, false);
    assert.equal(typeof config.DuplicatesIgnored, "boolean");
    assert.equal(typeof config.HideDeleteAllButton, "boolean");
  });

  test("listMessages: newest first, paged", LIMIT, async () => {
    await reset();
    const ids = await sendSimple("Page 1", "Page 2", "Page 3", "Page 4", "Page 5");
    const all = await mailpit.listMessages();
    assert.equal(all.total, 5);
    assert.equal(all.unread, 5);
    assert.equal(all.messages_count, 5);
    assert.equal(all.messages_unread, 5);
    assert.equal(all.count, 5);
    assert.equal(all.start, 0);
    assert.deepEqual(all.tags, []);
    assert.deepEqual(
      all.messages.map((m) => m.Subject),
      ["Page 5", "Page 4", "Page 3", "Page 2", "Page 1"],
    );
    assert.deepEqual(
      all.messages.map((m) => m.ID),
      [...ids].reverse(),
      "the IDs SMTP reported, newest first",
    );
    const item = all.messages[4];
    assert.match(item.ID, /^[0-9A-Za-z]{22}$/);
    assert.equal(item.MessageID, "Page-1@npm.test");
    assert.equal(item.Read, false);
    assert.deepEqual(item.From, address("", "sender@example.test"));
    assert.deepEqual(item.To, [address("", "rcpt@example.test")]);
    assert.deepEqual(item.Cc, []);
    assert.deepEqual(item.Bcc, []);
    assert.deepEqual(item.ReplyTo, []);
    assert.deepEqual(item.Tags, []);
    assert.equal(item.Attachments, 0);
    assert.equal(item.Snippet, "Hello.");
    assert.equal(item.Username, "");
    assert.ok(item.Size > 200, `a size (${item.Size})`);
    assert.ok(Math.abs(Date.parse(item.Created) - Date.now()) < 60_000, `Created ${item.Created}`);

    const page = await mailpit.listMessages(1, 2);
    assert.equal(page.start, 1);
    assert.equal(page.count, 2);
    assert.equal(page.total, 5);
    assert.equal(page.messages_count, 5);
    assert.deepEqual(
      page.messages.map((m) => m.Subject),
      ["Page 4", "Page 3"],
    );
    const last = await mailpit.listMessages(4, 2);
    assert.deepEqual(
      last.messages.map((m) => m.Subject),
      ["Page 1"],
    );
    assert.equal(last.count, 1);
    const beyond = await mailpit.listMessages(10, 2);
    assert.deepEqual(beyond.messages, []);
    assert.equal(beyond.count, 0);
    assert.equal(beyond.total, 5);
    // limit=0 means every message.
    assert.equal((await mailpit.listMessages(0, 0)).messages.length, 5);

  });

  test("list Snippet: the HTML part stripped when there is one, '...' when cut", LIMIT, async () => {
    await reset();
    await smtpSend("alice@example.test", RICH_RECIPIENTS, RICH);
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`);
    const lines = [];
    for (let i = 0; i < words.length; i += 10) {
      lines.push(words.slice(i, i + 10).join("  "));
    }
    const long = simple({ subject: "Long", body: lines.join("\r\n") });
    await smtpSend("sender@example.test", ["rcpt@example.test"], long);
    const [longItem, richItem] = (await mailpit.listMessages()).messages;

    assert.equal(richItem.Snippet, "HTML body with a link.");
    assert.ok(longItem.Snippet.endsWith("..."), `truncation is marked: ${longItem.Snippet}`);
    const kept = longItem.Snippet.slice(0, -3);
    assert.ok(kept.length >= 150 && kept.length <= 250, `${kept.length} characters kept`);
    assert.ok(words.join(" ").startsWith(kept), `the start of the body: ${kept}`);
  });

  test("searchMessages", LIMIT, async () => {
    await reset();
    for (const [from, to, subject, body] of [
      ["Ann <ann@alpha.test>", "x@example.test", "Alpha report", "quarterly numbers"],
      ["ben@beta.test", "y@example.test", "Beta report", "weekly numbers"],
      ["ann@alpha.test", "z@example.test", "Gamma note", "nothing here"],
    ]) {
      const sender = /[^<\s]+@[^>\s]+/.exec(from)[0];
      await smtpSend(sender, [to], simple({ subject, from, to, body }));
    }
    await mailpit.setReadStatus({ Search: "subject:Gamma", Read: true });

    const reports = await mailpit.searchMessages({ query: "report" });
    assert.deepEqual(
      reports.messages.map((m) => m.Subject),
      ["Beta report", "Alpha report"],
    );
    assert.equal(reports.messages_count, 2);
    assert.equal(reports.messages_unread, 2);
    assert.equal(reports.count, 2);
    assert.equal(reports.total, 3, "total stays mailbox-wide");
    assert.equal(reports.unread, 2);

    const fromAlpha = await mailpit.searchMessages({ query: "from:alpha.test" });
    assert.deepEqual(
      fromAlpha.messages.map((m) => m.Subject),
      ["Gamma note", "Alpha report"],
    );
    assert.equal(fromAlpha.messages_unread, 1);
    assert.deepEqual(fromAlpha.messages[1].From, address("Ann", "ann@alpha.test"));

    const paged = await mailpit.searchMessages({ query: "from:alpha.test", start: 1, limit: 1 });
    assert.equal(paged.start, 1);
    assert.equal(paged.messages_count, 2);
    assert.deepEqual(
      paged.messages.map((m) => m.Subject),
      ["Alpha report"],
    );

    const body = await mailpit.searchMessages({ query: "weekly" });
    assert.deepEqual(
      body.messages.map((m) => m.Subject),
      ["Beta report"],
    );
    const combined = await mailpit.searchMessages({ query: "numbers -subject:Beta to:x@example.test" });
    assert.deepEqual(
      combined.messages.map((m) => m.Subject),
      ["Alpha report"],
    );
    const unread = await mailpit.searchMessages({ query: "is:read" });
    assert.deepEqual(
      unread.messages.map((m) => m.Subject),
      ["Gamma note"],
    );
    const after = await mailpit.searchMessages({ query: "after:2020-01-01", tz: "Pacific/Auckland" });
    assert.equal(after.messages_count, 3);
    const none = await mailpit.searchMessages({ query: "subject:nonexistent-xyz" });
    assert.equal(none.messages_count, 0);
    assert.deepEqual(none.messages, []);
    assert.equal(none.total, 3);
    await rejectsWith(mailpit.searchMessages({ query: "" }), 400, "/api/v1/search");
  });

  test("getMessageSummary, getMessageHeaders, getMessageSource", LIMIT, async () => {
    await reset();
    await sendSimple("Older message");
    const id = await smtpSend("alice@example.test", RICH_RECIPIENTS, RICH);

    const latest = await mailpit.getMessageSummary();
    assert.equal(latest.ID, id, "latest is the newest message");
    const message = await mailpit.getMessageSummary(id);
    assert.equal(message.ID, id);
    assert.equal(message.MessageID, "rich-1@npm.test");
    assert.equal(message.Subject, "Grüße from the npm client");
    assert.deepEqual(message.From, address("Alice Example", "alice@example.test"));
    assert.deepEqual(message.To, [
      address("Bob Builder", "bob@example.test"),
      address("", "carol@example.test"),
    ]);
    assert.deepEqual(message.Cc, [address("Dave", "dave@example.test")]);
    assert.deepEqual(message.Bcc, [address("", "hidden@example.test")], "the envelope-only recipient");
    assert.deepEqual(message.ReplyTo, [address("", "replies@example.test")]);
    assert.equal(message.ReturnPath, "alice@example.test");
    assert.equal(new Date(message.Date).toISOString(), "2024-01-02T03:04:05.000Z");
    assert.deepEqual(message.Tags, []);
    assert.equal(message.Username, "");
    assert.equal(lf(message.Text).trim(), "Plain body line.\n.A line that starts with a dot.");
    assert.equal(
      message.HTML.trim(),
      '<p>HTML <b>body</b> with a <a href="https://example.test/confirm">link</a>.</p>',
    );
    assert.deepEqual(message.ListUnsubscribe, {
      Header: "<mailto:unsub@example.test?subject=stop>, <https://example.test/unsub?u=1>",
      Links: ["mailto:unsub@example.test?subject=stop", "https://example.test/unsub?u=1"],
      Errors: "",
      HeaderPost: "List-Unsubscribe=One-Click",
    });
    assert.deepEqual(message.Inline, []);
    assert.deepEqual(message.Attachments, [
      {
        PartID: "2",
        FileName: "notes.txt",
        ContentType: "text/plain",
        ContentID: "",
        Size: NOTES.length,
        Checksums: { MD5: md5(NOTES), SHA1: sha1(NOTES), SHA256: sha256(NOTES) },
      },
      {
        PartID: "3",
        FileName: "picture.png",
        ContentType: "image/png",
        ContentID: "",
        Size: PICTURE.length,
        Checksums: { MD5: md5(PICTURE), SHA1: sha1(PICTURE), SHA256: sha256(PICTURE) },
      },
    ]);

    // Reading the message marked it read; the list agrees.
    const list = await mailpit.listMessages();
    const item = list.messages.find((m) => m.ID === id);
    assert.equal(item.Read, true);
    assert.equal(item.Attachments, 2);
    assert.equal(item.Subject, "Grüße from the npm client");
    assert.deepEqual(item.Bcc, [address("", "hidden@example.test")]);
    assert.equal(list.unread, 1, "only the older message is unread");

    const headers = await mailpit.getMessageHeaders(id);
    assert.deepEqual(headers["Message-Id"], ["<rich-1@npm.test>"]);
    assert.deepEqual(headers["Mime-Version"], ["1.0"]);
    assert.deepEqual(headers["Reply-To"], ["replies@example.test"]);
    assert.deepEqual(headers["X-Repeated"], ["first", "second"]);
    assert.deepEqual(headers["X-Folded"], ["part one part two"]);
    assert.deepEqual(headers["List-Unsubscribe-Post"], ["List-Unsubscribe=One-Click"]);
    assert.deepEqual(headers["Content-Type"], ['multipart/mixed; boundary="mixed-boundary"']);
    assert.deepEqual(
      headers.Subject,
      [RICH[4].slice("Subject: ".length)],
      "header values are not decoded",
    );
    assert.deepEqual(headers["Return-Path"], ["<alice@example.test>"]);
    assert.equal(headers["Message-ID"], undefined, "keys are in Go's canonical form");
    const keys = Object.keys(headers);
    assert.deepEqual(keys, [...keys].sort(), "keys in alphabetical order");
    assert.deepEqual(await mailpit.getMessageHeaders(), headers, "latest by default");

    const source = await mailpit.getMessageSource(id);
    assert.ok(source.startsWith("Return-Path: <alice@example.test>\r\n"), source.slice(0, 200));
    assert.ok(
      source.endsWith(`${RICH.join("\r\n")}\r\n`),
      "the client's bytes, unstuffed, end the source",
    );
    assert.ok(source.includes("\r\n.A line that starts with a dot.\r\n"));
    assert.equal(Buffer.byteLength(source), message.Size);
    assert.equal(await mailpit.getMessageSource(), source, "latest by default");

    await rejectsWith(mailpit.getMessageSummary("AAAAAAAAAAAAAAAAAAAAAA"), 404, "/api/v1/message/");
    await mailpit.deleteMessages();
    await rejectsWith(mailpit.getMessageSummary(), 404, "/api/v1/message/latest");
  });

  test("getMessageAttachment and getAttachmentThumbnail", LIMIT, async () => {
    await reset();
    const id = await smtpSend("alice@example.test", RICH_RECIPIENTS, RICH);

    const notes = await mailpit.getMessageAttachment(id, "2");
    assert.match(notes.type, /^text\/plain/);
    assert.deepEqual(await blobBytes(notes), NOTES);
    const picture = await mailpit.getMessageAttachment(id, "3");
    assert.equal(picture.type, "image/png");
    assert.deepEqual(await blobBytes(picture), PICTURE);
    const html = await mailpit.getMessageAttachment(id, "1.2");
    assert.match(html.type, /^text\/html/);
    assert.ok((await html.text()).includes("<b>body</b>"));

    const thumbnail = await mailpit.getAttachmentThumbnail(id, "3");
    assert.equal(thumbnail.type, "image/jpeg");
    const jpeg = await blobBytes(thumbnail);
    assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9], "a JPEG ends with FF D9 (EOI)");
    assert.deepEqual(jpegSize(jpeg), { width: 180, height: 120 });
    // Not an image: a blank JPEG of the same size.
    const blank = await blobBytes(await mailpit.getAttachmentThumbnail(id, "2"));
    assert.deepEqual(jpegSize(blank), { width: 180, height: 120 });

    assert.deepEqual(await blobBytes(await mailpit.getMessageAttachment("latest", "2")), NOTES);
    await rejectsWith(mailpit.getMessageAttachment(id, "9"), 404, `/api/v1/message/${id}/part/9`);
    // Reading parts does not mark the message read.
    assert.equal((await mailpit.listMessages()).unread, 1);
  });

  test("setReadStatus: by IDs, by Search, all", LIMIT, async () => {
    await reset();
    const [a, b, c] = await sendSimple("Read alpha", "Read bravo", "Read charlie");
    const readIds = async () =>
      (await mailpit.listMessages()).messages
        .filter((m) => m.Read)
        .map((m) => m.ID)
        .sort();

    assert.equal(await mailpit.setReadStatus({ IDs: [a, c], Read: true }), "ok");
    assert.deepEqual(await readIds(), [a, c].sort());
    assert.equal(await mailpit.setReadStatus({ IDs: [a] }), "ok", "Read defaults to false");
    assert.deepEqual(await readIds(), [c]);
    assert.equal(await mailpit.setReadStatus({ Search: "subject:bravo", Read: true }), "ok");
    assert.deepEqual(await readIds(), [b, c].sort());
    assert.equal(await mailpit.setReadStatus({ Read: true }), "ok");
    assert.deepEqual(await readIds(), [a, b, c].sort());
    assert.equal((await mailpit.listMessages()).unread, 0);
    assert.equal(await mailpit.setReadStatus(), "ok", "no argument marks all unread");
    assert.deepEqual(await readIds(), []);
    assert.equal(
      await mailpit.setReadStatus({ Search: "after:2020-01-01", Read: true }, { tz: "America/Chicago" }),
      "ok",
    );
    assert.deepEqual(await readIds(), [a, b, c].sort());
    await rejectsWith(
      mailpit.setReadStatus({ IDs: [a], Search: "subject:alpha", Read: true }),
      400,
      "/api/v1/messages",
    );
  });

  test("deleteMessages and deleteMessagesBySearch", LIMIT, async () => {
    await reset();
    const [a, b, c, d] = await sendSimple("Delete alpha", "Delete bravo", "Delete charlie", "Keep delta");
    const remaining = async () =>
      (await mailpit.listMessages()).messages.map((m) => m.Subject);

    // SPEC §7: Mailsink answers this one with an empty body (MailHog's
    // clients need that); mailpit-api only requires the 200.
    const byIds = await mailpit.deleteMessages({ IDs: [a, c] });
    assert.ok(["", "ok"].includes(byIds), `answer ${JSON.stringify(byIds)}`);
    assert.deepEqual(await remaining(), ["Keep delta", "Delete bravo"]);
    await rejectsWith(mailpit.getMessageSummary(a), 404, `/api/v1/message/${a}`);

    assert.equal(await mailpit.deleteMessagesBySearch({ query: "subject:Delete" }), "ok");
    assert.deepEqual(await remaining(), ["Keep delta"]);
    assert.equal((await mailpit.getMessageSummary(d)).ID, d);
    await rejectsWith(mailpit.getMessageSummary(b), 404, `/api/v1/message/${b}`);

    await sendSimple("Delete echo");
    assert.equal(
      await mailpit.deleteMessagesBySearch({ query: "after:2020-01-01 subject:echo", tz: "Europe/Berlin" }),
      "ok",
    );
    assert.deepEqual(await remaining(), ["Keep delta"]);
    await rejectsWith(mailpit.deleteMessagesBySearch({ query: " " }), 400, "/api/v1/search");

    await sendSimple("Delete foxtrot");
    const all = await mailpit.deleteMessages();
    assert.ok(["", "ok"].includes(all), `answer ${JSON.stringify(all)}`);
    const empty = await mailpit.listMessages();
    assert.equal(empty.total, 0);
    assert.deepEqual(empty.messages, []);
  });

  test("waitForMessage and waitForMessages", LIMIT, async () => {
    await reset();
    const waiting = mailpit.waitForMessage({ query: "subject:Awaited" }, { timeout: 10_000, interval: 50 });
    const awaited = simple({ subject: "Awaited message", body: "Here it is." });
    const id = await smtpSend("waiter@example.test", ["rcpt@example.test"], awaited);
    const message = await waiting;
    assert.equal(message.ID, id);
    assert.equal(message.Subject, "Awaited message");
    assert.equal(lf(message.Text).trim(), "Here it is.");
    assert.deepEqual(message.ListUnsubscribe, { Header: "", Links: [], Errors: "", HeaderPost: "" });
    assert.deepEqual(message.Attachments, []);
    assert.deepEqual(message.Inline, []);
    assert.equal(message.HTML, "");

    await assert.rejects(
      mailpit.waitForMessage({ query: "subject:never-sent" }, { timeout: 300, interval: 50 }),
      /Timeout waiting for messages matching query "subject:never-sent"/,
    );

    const several = mailpit.waitForMessages(
      { query: "subject:Batch", count: 3 },
      { timeout: 10_000, interval: 50 },
    );
    await sendSimple("Batch 1", "Other", "Batch 2", "Batch 3");
    const batch = await several;
    assert.equal(batch.messages_count, 3);
    assert.deepEqual(
      batch.messages.map((m) => m.Subject),
      ["Batch 3", "Batch 2", "Batch 1"],
    );

    const exact = await mailpit.waitForMessages({ count: 5, exact: true }, { timeout: 2_000, interval: 50 });
    assert.equal(exact.messages_count, 5);
    assert.equal(exact.messages.length, 5);
    await assert.rejects(
      mailpit.waitForMessages({ count: 4, exact: true }, { timeout: 300, interval: 50 }),
      /Timeout waiting for messages/,
    );
    const optionsOnly = await mailpit.waitForMessages({ timeout: 2_000, interval: 50 });
    assert.equal(optionsOnly.messages_count, 5);

    await mailpit.deleteMessages();
    const none = await mailpit.waitForMessages({ count: 0 }, { timeout: 2_000, interval: 50 });
    assert.equal(none.messages_count, 0);
  });

  test("getTags, setTags, renameTag, deleteTag", LIMIT, async () => {
    await reset();
    const [a, b, c] = await sendSimple("Tag alpha", "Tag bravo", "Tag charlie");
    const tagsOf = async (id) => [...(await mailpit.getMessageSummary(id)).Tags].sort();
    assert.deepEqual(await mailpit.getTags(), []);

    assert.equal(await mailpit.setTags({ IDs: [a, b], Tags: ["Tag 1", "urgent"] }), "ok");
    assert.equal(await mailpit.setTags({ IDs: [c], Tags: ["urgent"] }), "ok");
    assert.deepEqual([...(await mailpit.getTags())].sort(), ["Tag 1", "urgent"]);
    assert.deepEqual(await tagsOf(a), ["Tag 1", "urgent"]);
    assert.deepEqual(await tagsOf(c), ["urgent"]);
    assert.deepEqual([...(await mailpit.listMessages()).tags].sort(), ["Tag 1", "urgent"]);
    assert.deepEqual((await mailpit.getInfo()).Tags, { "Tag 1": 2, urgent: 3 });
    const tagged = await mailpit.searchMessages({ query: 'tag:"Tag 1"' });
    assert.deepEqual(tagged.messages.map((m) => m.ID), [b, a]);

    // setTags replaces: c loses "urgent", gains "Tag 1".
    assert.equal(await mailpit.setTags({ IDs: [c], Tags: ["Tag 1"] }), "ok");
    assert.deepEqual(await tagsOf(c), ["Tag 1"]);

    // The name travels URL-encoded ("Tag%201").
    assert.equal(await mailpit.renameTag("Tag 1", "Renamed Tag"), "ok");
    assert.deepEqual([...(await mailpit.getTags())].sort(), ["Renamed Tag", "urgent"]);
    assert.deepEqual(await tagsOf(a), ["Renamed Tag", "urgent"]);
    assert.deepEqual(await tagsOf(c), ["Renamed Tag"]);

    assert.equal(await mailpit.deleteTag("urgent"), "ok");
    assert.deepEqual(await mailpit.getTags(), ["Renamed Tag"]);
    assert.deepEqual(await tagsOf(a), ["Renamed Tag"]);
    assert.equal((await mailpit.listMessages()).total, 3, "deleting a tag keeps the messages");

    // Characters outside Mailpit's tag alphabet are dropped, not refused.
    assert.equal(await mailpit.setTags({ IDs: [b], Tags: ["needs review!"] }), "ok");
    assert.deepEqual(await tagsOf(b), ["needs review"]);

    // No Tags removes every tag from the listed messages.
    assert.equal(await mailpit.setTags({ IDs: [a, b, c] }), "ok");
    assert.deepEqual(await tagsOf(b), []);
    assert.deepEqual(await mailpit.getTags(), []);

    // Mail can bring its own tags in an X-Tags header.
    const headerTagged = await smtpSend("s@example.test", ["r@example.test"], [
      "X-Tags: from-header, Second Tag",
      ...simple({ subject: "Tagged by header" }),
    ]);
    assert.deepEqual(await tagsOf(headerTagged), ["Second Tag", "from-header"]);
  });

  test("renderMessageHTML and renderMessageText", LIMIT, async () => {
    await reset();
    const plain = simple({ subject: "Only text", body: "Just words." });
    const plainId = await smtpSend("s@example.test", ["r@example.test"], plain);
    const id = await smtpSend("alice@example.test", RICH_RECIPIENTS, RICH);
    assert.equal((await mailpit.listMessages()).unread, 2);

    const html = await mailpit.renderMessageHTML(id);
    assert.equal(
      html.trim(),
      '<p>HTML <b>body</b> with a <a href="https://example.test/confirm">link</a>.</p>',
    );
    assert.equal(await mailpit.renderMessageHTML(), html, "latest by default");
    const embedded = await mailpit.renderMessageHTML(id, 1);
    assert.match(embedded, /<a [^>]*target="_blank"[^>]*>link<\/a>/);
    assert.match(embedded, /<a [^>]*rel="noreferrer noopener"[^>]*>link<\/a>/);
    assert.match(embedded, /<a [^>]*href="https:\/\/example.test\/confirm"[^>]*>link<\/a>/);

    const text = await mailpit.renderMessageText(id);
    assert.equal(lf(text).trim(), "Plain body line.\n.A line that starts with a dot.");
    assert.equal(await mailpit.renderMessageText(), text, "latest by default");
    await rejectsWith(mailpit.renderMessageHTML(plainId), 404, `/view/${plainId}.html`);
    const readNow = (await mailpit.listMessages()).messages.filter((m) => m.Read).map((m) => m.ID);
    assert.deepEqual(readNow, [id], "viewing marks read; a message without HTML stays unread");
    assert.equal(lf(await mailpit.renderMessageText(plainId)).trim(), "Just words.");
    assert.equal((await mailpit.listMessages()).unread, 0);
  });

  test("sendMessage, then read it back", LIMIT, async () => {
    await reset();
    const csv = Buffer.from("name,amount\nwidget,3\n");
    const request = {
      From: { Email: "app@example.test", Name: "The App" },
      To: [{ Email: "first@example.test", Name: "Jörg Müller" }, { Email: "second@example.test" }],
      Cc: [{ Email: "copy@example.test", Name: "Copy Person" }],
      Bcc: ["secret@example.test"],
      ReplyTo: [{ Email: "reply@example.test", Name: "Replies" }],
      Subject: "Sent through the API ✓",
      Text: "Text body\nsecond line",
      HTML: '<p>HTML body <img src="cid:logo@npm.test" alt="logo"></p>',
      Tags: ["api", "Sent Mail"],
      Headers: { "X-Npm-Test": "yes" },
      Attachments: [
        // Mailpit takes the text after the last comma, so a data: URL works.
        {
          Content: `data:text/csv;base64,${csv.toString("base64")}`,
          Filename: "report.csv",
          ContentType: "text/csv",
        },
        {
          Content: LOGO.toString("base64"),
          Filename: "logo.png",
          ContentType: "image/png",
          ContentID: "logo@npm.test",
        },
        // No ContentType: Mailpit sniffs it from the bytes.
        { Content: PICTURE.toString("base64"), Filename: "chart" },
      ],
    };
    const sent = await mailpit.sendMessage(request);
    assert.deepEqual(Object.keys(sent), ["ID"]);
    assert.match(sent.ID, /^[0-9A-Za-z]{22}$/);

    const message = await mailpit.getMessageSummary(sent.ID);
    assert.equal(message.ID, sent.ID);
    assert.deepEqual(message.From, address("The App", "app@example.test"));
    assert.deepEqual(message.To, [
      address("Jörg Müller", "first@example.test"),
      address("", "second@example.test"),
    ]);
    assert.deepEqual(message.Cc, [address("Copy Person", "copy@example.test")]);
    assert.deepEqual(message.Bcc, [address("", "secret@example.test")]);
    assert.deepEqual(message.ReplyTo, [address("Replies", "reply@example.test")]);
    assert.equal(message.Subject, "Sent through the API ✓");
    assert.equal(lf(message.Text).trim(), "Text body\nsecond line");
    assert.equal(message.HTML.trim(), request.HTML);
    assert.deepEqual([...message.Tags].sort(), ["Sent Mail", "api"]);
    assert.ok(Math.abs(Date.parse(message.Date) - Date.now()) < 60_000, `Date ${message.Date}`);
    assert.ok(message.MessageID.length > 0, "a Message-ID");
    assert.equal(message.ReturnPath, "app@example.test");

    assert.equal(message.Attachments.length, 2);
    const [report, chart] = message.Attachments;
    assert.equal(report.FileName, "report.csv");
    assert.equal(report.ContentType, "text/csv");
    assert.equal(report.ContentID, "");
    assert.equal(report.Size, csv.length);
    assert.equal(report.Checksums.SHA256, sha256(csv));
    assert.deepEqual(await blobBytes(await mailpit.getMessageAttachment(sent.ID, report.PartID)), csv);
    assert.equal(chart.FileName, "chart");
    assert.equal(chart.Checksums.SHA1, sha1(PICTURE));
    const chartBlob = await mailpit.getMessageAttachment(sent.ID, chart.PartID);
    assert.deepEqual(await blobBytes(chartBlob), PICTURE);

    assert.equal(message.Inline.length, 1);
    const [logo] = message.Inline;
    assert.equal(logo.FileName, "logo.png");
    assert.equal(logo.ContentType, "image/png");
    assert.equal(logo.ContentID, "logo@npm.test");
    assert.equal(logo.Size, LOGO.length);
    assert.equal(logo.Checksums.MD5, md5(LOGO));
    assert.deepEqual(await blobBytes(await mailpit.getMessageAttachment(sent.ID, logo.PartID)), LOGO);
    const thumb = await blobBytes(await mailpit.getAttachmentThumbnail(sent.ID, logo.PartID));
    assert.deepEqual(jpegSize(thumb), { width: 180, height: 120 }, "a small image is padded");

    const headers = await mailpit.getMessageHeaders(sent.ID);
    assert.deepEqual(headers["X-Npm-Test"], ["yes"]);
    // SPEC §3: a Bcc stays private, so unlike Mailpit, which writes a Bcc
    // header into the stored message, Mailsink keeps it out of the bytes.
    assert.equal(headers.Bcc, undefined, "Bcc recipients are not in the headers");
    assert.deepEqual(headers["Message-Id"], [`<${message.MessageID}>`]);

    // The inline image is served from the API in the rendered HTML.
    const html = await mailpit.renderMessageHTML(sent.ID);
    assert.ok(
      html.includes(`src="/api/v1/message/${sent.ID}/part/${logo.PartID}"`),
      `cid: rewritten in ${html}`,
    );
    assert.equal(lf(await mailpit.renderMessageText(sent.ID)).trim(), "Text body\nsecond line");

    const listed = await mailpit.searchMessages({ query: "tag:api" });
    assert.deepEqual(listed.messages.map((m) => m.ID), [sent.ID]);
    assert.equal(listed.messages[0].Attachments, 2);
    assert.deepEqual([...(await mailpit.getTags())].sort(), ["Sent Mail", "api"]);
    const source = await mailpit.getMessageSource(sent.ID);
    assert.ok(source.includes("X-Npm-Test: yes\r\n"), "the extra header is in the source");
    assert.ok(!/^Bcc:/im.test(source), "no Bcc header in the source");

    await rejectsWith(
      mailpit.sendMessage({ From: { Email: "not an address" }, To: [{ Email: "x@example.test" }] }),
      400,
      "/api/v1/send",
    );
    await rejectsWith(
      mailpit.sendMessage({ From: { Email: "a@example.test" }, To: [{ Email: "bad" }] }),
      400,
      "/api/v1/send",
      '{"Error":',
    );
    await rejectsWith(
      mailpit.sendMessage({
        From: { Email: "a@example.test" },
        To: [{ Email: "x@example.test" }],
        Headers: { Subject: "not allowed here" },
      }),
      400,
      "/api/v1/send",
    );
    assert.equal((await mailpit.listMessages()).total, 1, "a refused send stores nothing");

    // Without a ContentType, Mailpit detects it from the bytes
    // (http.DetectContentType); the file name here has no extension.
    assert.equal(chart.ContentType, "image/png", "sniffed from the bytes");
    assert.equal(chartBlob.type, "image/png");
  });

  test("features that are not configured are refused", LIMIT, async () => {
    await reset();
    const id = await smtpSend("alice@example.test", RICH_RECIPIENTS, RICH);

    await rejectsWith(
      mailpit.releaseMessage(id, { To: ["someone@example.test"] }),
      400,
      `/api/v1/message/${id}/release`,
    );
    await rejectsWith(mailpit.htmlCheck(id), 400, `/api/v1/message/${id}/html-check`);
    await rejectsWith(mailpit.htmlCheck(), 400, "/api/v1/message/latest/html-check");
    await rejectsWith(mailpit.linkCheck(id), 400, `/api/v1/message/${id}/link-check?follow=false`);
    await rejectsWith(mailpit.linkCheck(id, true), 400, `/api/v1/message/${id}/link-check?follow=true`);
    await rejectsWith(mailpit.spamAssassinCheck(id), 404, `/api/v1/message/${id}/sa-check`);
    await rejectsWith(mailpit.spamAssassinCheck(), 404, "/api/v1/message/latest/sa-check");
    await rejectsWith(mailpit.getChaosTriggers(), 400, "/api/v1/chaos", "Chaos is not enabled");
    await rejectsWith(
      mailpit.setChaosTriggers({ Sender: { ErrorCode: 451, Probability: 100 } }),
      400,
      "/api/v1/chaos",
      "Chaos is not enabled",
    );
    await rejectsWith(mailpit.setChaosTriggers(), 400, "/api/v1/chaos", "Chaos is not enabled");

    // Nothing above changed the message or the mail flow.
    const config = await mailpit.getConfiguration();
    assert.equal(config.ChaosEnabled, false);
    assert.equal(config.MessageRelay.Enabled, false);
    assert.equal(config.SpamAssassin, false);
    await sendSimple("Still accepted");
    const list = await mailpit.listMessages();
    assert.equal(list.total, 2);
    assert.equal(list.unread, 2, "the checks did not mark the message read");
  });
});
