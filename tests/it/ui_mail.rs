//! Messages the web UI tests send: a rich one (HTML with an inline picture,
//! text with a one-time code, a PDF) and a hostile one that tries every way
//! caught HTML could run script on Mailsink's origin.

#![allow(dead_code)]

use std::net::SocketAddr;

use mailsink::store::MessageId;

use crate::harness::deliver;

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// HTML with a `cid:` picture and a link, text with the code 482913, and
/// `terms.pdf`.
pub async fn send_rich(smtp: SocketAddr, subject: &str) -> MessageId {
    let message = format!(
        "From: Shop <shop@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nX-Mailer: ui-test\r\n\
         Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
         --outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Your code is 482913.\r\nConfirm: https://shop.example.com/confirm?t=abc\r\n\
         --alt\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n\
         --rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <h1 id=\"greeting\">Hello Bob</h1><p>Your code is <b>482913</b>.</p>\
         <p><img id=\"logo\" alt=\"logo\" src=\"cid:logo@shop\"></p>\
         <p><a href=\"https://shop.example.com/confirm?t=abc\">Confirm</a></p>\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <logo@shop>\r\n\
         Content-Disposition: inline; filename=\"logo.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{PNG_1X1}\r\n--rel--\r\n--alt--\r\n\
         --outer\r\nContent-Type: application/pdf; name=\"terms.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"terms.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--outer--\r\n"
    );
    deliver(smtp, "shop@example.com", &["bob@example.com"], &message).await
}

/// The subject of [`send_hostile`]: markup that must show as text.
pub const HOSTILE_SUBJECT: &str =
    "<script>window.xss=1</script><img src=x onerror=\"window.xss=2\">";
/// The attachment name of [`send_hostile`].
pub const HOSTILE_FILE: &str = "<img src=x onerror=window.xss=3>.html";

/// Every trick: `<script>`, `onerror=`, a `javascript:` link, `<meta
/// http-equiv=refresh>`, SVG with script (inline and as an attachment), and
/// HTML in the subject, the sender's name and a file name. Each sets
/// `window.xss` or changes the top page, if it ever runs.
pub async fn send_hostile(smtp: SocketAddr) -> MessageId {
    let html = "<html><head><meta http-equiv=\"refresh\" content=\"0;url=javascript:top.xss=4\">\
        <script>window.xss=5;top.xss=5;top.document.body.textContent='owned';\
        fetch('/api/v1/messages',{method:'DELETE'})</script></head>\
        <body><p id=\"bait\">Hostile mail</p>\
        <img src=\"x\" onerror=\"top.xss=6;alert(6)\">\
        <a id=\"jslink\" href=\"javascript:top.xss=7;alert(7)\">click me</a>\
        <svg xmlns=\"http://www.w3.org/2000/svg\"><script>top.xss=8;alert(8)</script></svg>\
        <iframe src=\"javascript:top.xss=9\"></iframe>\
        <form action=\"/api/v1/messages\" method=\"post\"><button id=\"post\">post</button></form>\
        <img src=\"/api/v1/messages\" onload=\"top.xss=10\"></body></html>";
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(11)\"><script>alert(12)</script></svg>";
    let message = format!(
        "From: \"<b>Mallory</b>\" <mallory@example.com>\r\nTo: bob@example.com\r\n\
         Subject: {HOSTILE_SUBJECT}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n\
         --b\r\nContent-Type: text/html; name=\"x.html\"\r\n\
         Content-Disposition: attachment; filename=\"{HOSTILE_FILE}\"\r\n\r\n\
         <script>fetch('/api/v1/messages',{{method:'DELETE'}});alert(13)</script>\r\n\
         --b\r\nContent-Type: image/svg+xml\r\n\
         Content-Disposition: attachment; filename=\"evil.svg\"\r\n\r\n{svg}\r\n--b--\r\n"
    );
    deliver(smtp, "mallory@example.com", &["bob@example.com"], &message).await
}

/// A short plain message.
pub async fn send_plain(smtp: SocketAddr, subject: &str) -> MessageId {
    let message = format!(
        "From: Ann <ann@example.com>\r\nTo: team@example.com\r\nSubject: {subject}\r\n\r\nHi.\r\n"
    );
    deliver(smtp, "ann@example.com", &["team@example.com"], &message).await
}
