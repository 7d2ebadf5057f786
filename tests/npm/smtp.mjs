// A small SMTP client (node:net only) that the npm client suites share, so
// mail reaches Mailsink the way an application's would.

import assert from "node:assert/strict";
import net from "node:net";

/** One SMTP session: whole replies (every line of a multi-line one) in order. */
export class SmtpSession {
  #socket;
  #buffer = "";
  #lines = [];
  #replies = [];
  #waiting = [];
  #failure = null;

  constructor(socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk) => {
      this.#buffer += chunk;
      let end;
      while ((end = this.#buffer.indexOf("\r\n")) >= 0) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        this.#lines.push(line);
        // RFC 5321 §4.2.1: "250-" continues a reply, "250 " ends it.
        if (line.length < 4 || line[3] !== "-") {
          this.#replies.push({ code: Number(line.slice(0, 3)), text: this.#lines.join("\n") });
          this.#lines = [];
        }
      }
      this.#settle();
    });
    socket.on("error", (error) => {
      this.#failure = error;
      this.#settle();
    });
    socket.on("close", () => {
      this.#failure ??= new Error("the SMTP server closed the connection");
      this.#settle();
    });
  }

  static connect(address) {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon);
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => resolve(new SmtpSession(socket)));
      socket.once("error", reject);
    });
  }

  #settle() {
    while (this.#waiting.length > 0 && (this.#replies.length > 0 || this.#failure)) {
      const waiter = this.#waiting.shift();
      clearTimeout(waiter.timer);
      if (this.#replies.length > 0) {
        waiter.resolve(this.#replies.shift());
      } else {
        waiter.reject(this.#failure);
      }
    }
  }

  reply() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no SMTP reply within 10 s")), 10_000);
      this.#waiting.push({ resolve, reject, timer });
      this.#settle();
    });
  }

  /** Sends `line` (unless null), reads the reply and checks its code. */
  async expect(line, code) {
    if (line !== null) {
      this.#socket.write(`${line}\r\n`, "latin1");
    }
    const reply = await this.reply();
    assert.equal(reply.code, code, `after ${line ?? "connecting"}: ${reply.text}`);
    return reply.text;
  }

  write(text) {
    this.#socket.write(text, "utf8");
  }

  close() {
    this.#socket.end();
  }
}

/**
 * Delivers `lines` (the message, one header or body line each) from `from` to
 * every address in `to` through the SMTP listener at `address` (host:port);
 * returns the ID from "250 … queued as <ID>".
 */
export async function smtpSend(address, from, to, lines) {
  const session = await SmtpSession.connect(address);
  try {
    await session.expect(null, 220);
    await session.expect("EHLO npm.test", 250);
    await session.expect(`MAIL FROM:<${from}>`, 250);
    for (const recipient of to) {
      await session.expect(`RCPT TO:<${recipient}>`, 250);
    }
    await session.expect("DATA", 354);
    // RFC 5321 §4.5.2: a line that starts with a dot gets one more.
    const stuffed = lines.map((line) => (line.startsWith(".") ? `.${line}` : line));
    session.write(`${stuffed.join("\r\n")}\r\n.\r\n`);
    const queued = await session.expect(null, 250);
    await session.expect("QUIT", 221);
    const id = /queued as (\S+)/.exec(queued)?.[1];
    assert.ok(id, `no ID in ${queued}`);
    return id;
  } finally {
    session.close();
  }
}

/** A one-part text message. */
export function simple({ subject, from = "sender@example.test", to = "rcpt@example.test", body = "Hello." }) {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${subject.replaceAll(/[^A-Za-z0-9]/g, "-")}@npm.test>`,
    "Date: Tue, 02 Jan 2024 03:04:05 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
  ];
}
