//! True and false positives for [`codes`](super::codes), from the kinds of
//! mail tests read: sign-up and login mails, receipts, newsletters, invoices.

use super::*;

fn one(text: &str) -> Vec<String> {
    codes(text)
}

#[track_caller]
fn finds(text: &str, want: &[&str]) {
    assert_eq!(one(text), want, "in {text:?}");
}

#[track_caller]
fn finds_none(text: &str) {
    assert_eq!(one(text), Vec::<String>::new(), "in {text:?}");
}

#[test]
fn keyword_before_on_the_same_line() {
    finds("Your verification code is 482913.", &["482913"]);
    finds("Your code: 4829", &["4829"]);
    finds("Use OTP 12345678 to log in.", &["12345678"]);
    finds("Your one-time passcode is 550123", &["550123"]);
    finds("Your one time password: 9921", &["9921"]);
    finds("Enter this security code:482913", &["482913"]);
    finds("PIN: 0042", &["0042"]);
    finds("Your login token is \"73921\"", &["73921"]);
    finds("2FA code — 661204", &["661204"]);
    finds("Dein Bestätigungscode lautet 482913.", &["482913"]);
    finds("Your ACCOUNT verification code is 482913", &["482913"]);
}

#[test]
fn keyword_after_on_the_same_line() {
    finds("482913 is your Acme verification code.", &["482913"]);
    finds("Use 7734 to verify your email address", &["7734"]);
}

#[test]
fn grouped_codes_lose_their_separator() {
    finds("Your code is 123-456", &["123456"]);
    finds("Your code is 123 456.", &["123456"]);
    finds("Verification code: 1234-5678", &["12345678"]);
    finds("Your code is **482 913**", &["482913"]);
}

#[test]
fn introduced_by_the_previous_line() {
    finds(
        "Hi Bob,\n\nYour verification code is:\n\n   482913   (valid for 10 minutes)\n",
        &["482913"],
    );
    finds("Enter the following code\n\n8812\n", &["8812"]);
    finds("Use this one-time code:\r\n\r\n**73 92 11**\r\n", &[]);
}

#[test]
fn alone_on_its_line() {
    finds(
        "Hi Bob,\n\nWelcome back!\n\n  482913\n\nThe Acme team",
        &["482913"],
    );
    finds("Confirm your sign-in\n\n[ 5521 ]\n", &["5521"]);
    finds("> 661204\n", &["661204"]);
}

#[test]
fn several_codes_once_each_in_order() {
    finds(
        "Your code is 111222. Your backup PIN is 9090.\nRepeat: your code is 111222.",
        &["111222", "9090"],
    );
}

#[test]
fn never_years_or_dates() {
    finds_none("Your verification code expires on March 3, 2026.");
    finds_none("Code sent on 2026-11-23 at 10:30.");
    finds_none("Your code was requested on 23/11/2026");
    finds_none("Your code expires 23.11.2026");
    finds_none("© 2026 Acme Inc. All rights reserved.");
    finds_none("Hi Bob,\n\n2026\n\nThanks");
    finds_none("Your membership code covers 2026-2027");
    finds_none("Verification code valid until Mon 23 Nov 2026");
    // A keyword right before a year still makes it a code.
    finds("Your PIN is 2026", &["2026"]);
}

#[test]
fn never_phone_numbers() {
    finds_none("Questions about your code? Call +1 (555) 123-4567.");
    finds_none("Call 555-1234 to verify your account.");
    finds_none("Verify by phone: 0800 123 456 789");
    finds_none("Code not working? Phone 12345678");
    finds_none("Tel: 030 1234 5678 (verification hotline)");
    finds_none("Contact us\n\n0800 1234\n");
    finds_none("For your verification code call 5551234.");
}

#[test]
fn never_prices_or_quantities() {
    finds_none("Use code SAVE20 for $1299 off.");
    finds_none("Your verification code costs nothing; your order total is 1299 USD.");
    finds_none("Verification code: expires in 1440 minutes");
    finds_none("Your code unlocks €2500 in credit");
    finds_none("Token sale: 5000 tokens for 2500 EUR");
    finds_none("Price: 1,299.00\nVerification pending");
    finds_none("Your code gives you 1500 points");
    finds_none("Code: 50% off, 1234% more");
}

#[test]
fn never_parts_of_urls_or_addresses() {
    finds_none("Verify here: https://example.com/verify?code=482913&user=1234");
    finds_none("Your code was sent to user482913@example.com");
    finds_none("Verify at www.example.com/v/482913");
    finds_none("Your verification link: <https://x.test/c/123456>");
}

#[test]
fn never_ids_order_numbers_and_labels() {
    finds_none("Order #482913 has shipped. Use code THANKS for 10% off.");
    finds_none("Order 12345678 — enter your code at checkout");
    finds_none("Your code is ready. Invoice number: 20261123");
    finds("Your code is 111222, your order 98765", &["111222"]);
    finds_none("Invoice\n\n48291\n");
    finds_none("Ticket ID:\n482913\n");
    finds_none("ZIP code: 90210");
    finds_none("Enter promo code 4821 at checkout");
    finds_none("HTTP status code 5030 returned");
    finds_none("Your card ending in 4242 was charged. Verification complete.");
    finds_none("Ref: ABC-482913 verification");
    finds_none("Verification #482913");
}

#[test]
fn never_numbers_glued_to_words_or_decimals() {
    finds_none("Your code v1234 is outdated");
    finds_none("Verification: 1920x1080 screenshot attached");
    finds_none("Verification code 3.14159 is not a code");
    finds_none("Verification took 1234ms");
    finds_none("Your code 1,234,567 is too long");
    finds_none("PIN 123456789 is too long");
    finds_none("Code: 123");
    finds_none("Your code is 12-34-56");
    finds_none("Server 192.168.1.20 verification");
}

#[test]
fn never_plain_numbers_without_context() {
    finds_none("We have 48291 happy customers and 1200 reviews.");
    finds_none("Meet us at booth 4821 in hall 3.");
    finds_none("Acme Inc, 1600 Amphitheatre Parkway, Mountain View, CA 94043");
    finds(
        "Your code is 482913\n\nAcme Inc, 1600 Amphitheatre Parkway",
        &["482913"],
    );
    finds_none("Newsletter #1234\nIssue 2026");
}

#[test]
fn never_a_column_of_numbers() {
    finds_none("Item\nWidget\n\n1234\n5678\n9012\n");
    finds_none("Results\n\n4821\n\n7734\n");
}

#[test]
fn spaced_out_digits_need_context() {
    finds(
        "Hello,\n\nYour verification code is\n\n9 2 4 8 1 3\n\nThanks",
        &["924813"],
    );
    finds("Enter this code in the app:\n\n**5 3 9 1**", &["5391"]);
    finds_none("Pages 1 2 3 4 5 Next");
    finds_none("Hi Bob,\n\n4 8 2 9\n");
}

#[test]
fn realistic_mails() {
    finds(
        "Your Microsoft account security code is 4821. If you didn't request it, \
ignore this email. Account: b***@example.com",
        &["4821"],
    );
    finds(
        "GitHub\n\nHere is your GitHub launch code: 12345678\n\nThanks,\nThe GitHub Team\n\n\
GitHub, Inc. ・88 Colin P Kelly Jr Street ・San Francisco, CA 94107",
        &["12345678"],
    );
    finds(
        "Meeting ID: 845 1234 5678\nPasscode: 613927\nDial by your location +1 646 558 8656 US",
        &["613927"],
    );
    finds(
        "Your verification code: 123456\nValid until 2026-11-23 10:45 UTC\nRequest ID: 88412345",
        &["123456"],
    );
    finds(
        "Sign in code\n\n123 456\n\nIf you didn't try to sign in, you can ignore this email.",
        &["123456"],
    );
    finds(
        "Hi,\n\n482913\n\nis your code. It expires soon.\n\nAcme, 2026",
        &["482913"],
    );
    finds_none(
        "Thanks for your order!\n\nOrder number: 100234567\nOrder date: 23 November 2026\n\
Total: 49.99 EUR\n\nShipping to:\nJane Doe\n12 High Street\nLondon",
    );
    finds_none(
        "Welcome to Acme!\n\nYour account has been created. Your customer number is 88231.\n\
Use code WELCOME10 for 10% off.",
    );
    finds_none("Your appointment on Tuesday, 24 November 2026 at 14:30 is confirmed. Room 2104.");
    finds_none(
        "Reset your password\n\nClick the link below:\nhttps://example.com/reset?token=8839201\n\
This link expires in 1 hour.",
    );
    finds_none("Invoice INV-2026-0042\nAmount due: 1200\nDue date: 2026-12-01");
    finds_none("Your PIN has been changed. If this wasn't you, call 0800 555 0199 immediately.");
    finds_none(
        "Security alert\n\nA new sign-in on Windows. Verification code was not required.\n\n\
Time: 10:42\nIP: 203.0.113.7\nLocation: Berlin 10115",
    );
    finds_none("Your week on Acme\n\nViews\n12345\nLikes\n321\nFollowers\n4567");
    finds_none("Best regards,\nJohn Smith\n1234 5678");
    finds_none("Top deals:\n1. Laptop — 1299\n2. Phone — 899");
}

#[test]
fn empty_and_odd_input() {
    finds_none("");
    finds_none("\n\n\r\n");
    finds("1234", &["1234"]);
    finds("ÄÖÜ ß 12345 🙂 code", &["12345"]);
    finds("Код: 4821 — code", &["4821"]);
}
