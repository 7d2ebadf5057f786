//! The web UI in real headless Chromium against the real server: mail
//! appears without a reload, a message opens with every part, search
//! narrows, deletes show in another tab, keys and bulk actions work, hostile
//! mail runs nothing, and both themes are photographed.

use anyhow::ensure;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{Theme, dialog_open, eval, run, screenshot, text, try_run, wait_for};
use crate::harness::TestApp;
use crate::ui_mail::{HOSTILE_SUBJECT, send_hostile, send_plain, send_rich};

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{path}", app.http)
}

/// Opens `path` and waits until the page's live channel is connected.
async fn open_live(client: &Client, app: &TestApp, path: &str) -> anyhow::Result<()> {
    client.goto(&url(app, path)).await?;
    wait_for(
        client,
        "the live channel",
        "document.body.dataset.live === 'on'",
    )
    .await
}

/// Presses one key on whatever has the focus.
async fn press(client: &Client, key: char) -> anyhow::Result<()> {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await?;
    Ok(())
}

/// The IDs of the rows shown, in order.
async fn rows(client: &Client) -> anyhow::Result<serde_json::Value> {
    eval(
        client,
        "[...document.querySelectorAll('li.msg')].map(r => r.dataset.id)",
    )
    .await
}

/// Where two JSON strings part, for a failure message.
fn first_difference(before: &serde_json::Value, after: &serde_json::Value) -> String {
    let (a, b) = (
        before.as_str().unwrap_or_default(),
        after.as_str().unwrap_or_default(),
    );
    let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let from = at.saturating_sub(80);
    let around = |s: &str| s.chars().skip(from).take(240).collect::<String>();
    format!("before: …{}… after: …{}…", around(a), around(b))
}

/// The page around the preview, less the mark chromedriver puts on a frame
/// it enters.
const OUTSIDE_THE_FRAME: &str =
    "document.querySelector('main').outerHTML.replace(/ cd_frame_id_=\"[^\"]*\"/g, '')";

fn row(id: &impl std::fmt::Display) -> String {
    format!("document.querySelector('li.msg[data-id=\"{id}\"]')")
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_appears_live_opens_with_every_part_and_deletes_everywhere() {
    run("inbox-live", Theme::Light, |client| async move {
        let app = TestApp::spawn().await;
        open_live(&client, &app, "/").await?;
        ensure!(text(&client, "#empty h2").await? == "No mail yet");
        screenshot(&client, "inbox-empty-light").await?;

        // New mail shows without a reload, in order, with the counts.
        client
            .execute("window.sentinel = 'same page'", vec![])
            .await?;
        let rich = send_rich(app.smtp, "Your order").await;
        wait_for(&client, "the new row", &row(&rich)).await?;
        let plain = send_plain(app.smtp, "Standup notes").await;
        wait_for(&client, "the second row", &row(&plain)).await?;
        ensure!(eval(&client, "window.sentinel").await? == "same page", "the page reloaded");
        let ids = eval(&client, "[...document.querySelectorAll('li.msg')].map(r => r.dataset.id)").await?;
        ensure!(ids == serde_json::json!([plain.to_string(), rich.to_string()]), "order: {ids}");
        ensure!(eval(&client, "document.querySelector('#empty').hidden").await? == true);
        wait_for(&client, "the unread count", "document.querySelector('#unread').textContent === '2'").await?;
        wait_for(&client, "the status line", "document.querySelector('#status').textContent === '2 messages, 2 unread'").await?;
        wait_for(&client, "the title", "document.title.startsWith('(2) Inbox')").await?;
        ensure!(
            eval(&client, "document.querySelector('link[rel=icon]').href.startsWith('data:image/svg+xml')").await? == true,
            "the favicon carries the count"
        );
        let first = text(&client, &format!("li.msg[data-id=\"{rich}\"] .subject")).await?;
        ensure!(first == "Your order", "{first}");
        ensure!(eval(&client, &format!("{}.classList.contains('unread')", row(&rich))).await? == true);
        screenshot(&client, "inbox-light").await?;

        // Search narrows the list, with the API's syntax.
        let search = client.find(Locator::Css("#q")).await?;
        search.send_keys("subject:order").await?;
        search.send_keys(&char::from(Key::Enter).to_string()).await?;
        wait_for(&client, "the search page", "location.pathname === '/search'").await?;
        let found = eval(&client, "[...document.querySelectorAll('li.msg')].map(r => r.dataset.id)").await?;
        ensure!(found == serde_json::json!([rich.to_string()]), "search found {found}");
        ensure!(text(&client, "#status").await? == "1 message matches");

        // The message: HTML preview with its inline picture, text, headers, parts.
        client
            .find(Locator::Css(&format!("li.msg[data-id=\"{rich}\"] a.open")))
            .await?
            .click()
            .await?;
        wait_for(&client, "the message page", "document.body.dataset.page === 'message'").await?;
        ensure!(text(&client, "h1.subject").await? == "Your order");
        wait_for(&client, "the preview", "document.querySelector('#preview')").await?;
        let frame = client.find(Locator::Css("#preview")).await?;
        ensure!(frame.attr("sandbox").await?.as_deref() == Some("allow-popups allow-popups-to-escape-sandbox"));
        frame.enter_frame().await?;
        wait_for(&client, "the framed HTML", "document.querySelector('#greeting')").await?;
        ensure!(text(&client, "#greeting").await? == "Hello Bob");
        wait_for(&client, "the cid: picture", "document.querySelector('#logo').complete && document.querySelector('#logo').naturalWidth === 1").await?;
        client.enter_parent_frame().await?;
        // Phone width for the preview.
        client.find(Locator::Css("#widths button[data-width='375']")).await?.click().await?;
        ensure!(eval(&client, "document.querySelector('#preview').getBoundingClientRect().width").await? == 375);
        screenshot(&client, "message-light").await?;

        for (tab, panel, expected) in [
            ("text", "#text pre", "Your code is 482913."),
            ("headers", "#headers", "X-Mailer"),
            ("source", "#source pre", "Content-Type: multipart/mixed; boundary=outer"),
            ("details", "#attachments", "terms.pdf"),
            ("details", "#envelope", "shop@example.com"),
        ] {
            client.find(Locator::Css(&format!("#tabs a[data-tab='{tab}']"))).await?.click().await?;
            wait_for(&client, tab, &format!("!document.querySelector('#{tab}').hidden")).await?;
            let shown = text(&client, panel).await?;
            ensure!(shown.contains(expected), "{tab}: {expected} in {shown}");
            ensure!(eval(&client, "document.querySelector('#html').hidden").await? == true);
        }
        ensure!(text(&client, "#details").await?.contains("482913"), "the code is listed");

        // A second tab on the inbox sees the delete from the first.
        let message_tab = client.window().await?;
        let inbox_tab = client.new_window(true).await?.handle;
        client.switch_to_window(inbox_tab.clone()).await?;
        open_live(&client, &app, "/").await?;
        ensure!(eval(&client, &format!("{} !== null", row(&rich))).await? == true);
        ensure!(
            eval(&client, &format!("{}.classList.contains('unread')", row(&rich))).await? == false,
            "opening marked it read"
        );
        client.switch_to_window(message_tab).await?;
        client.find(Locator::Css("#delete")).await?.click().await?;
        wait_for(&client, "the inbox after the delete", "location.pathname === '/'").await?;
        client.switch_to_window(inbox_tab).await?;
        wait_for(&client, "the row to go in the other tab", &format!("{} === null", row(&rich))).await?;
        ensure!(eval(&client, &format!("{} !== null", row(&plain))).await? == true);
        ensure!(app.messages().await.len() == 1);
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_selection_and_bulk_actions() {
    run("inbox-actions", Theme::Light, |client| async move {
        let app = TestApp::spawn().await;
        let a = send_plain(app.smtp, "first").await;
        let b = send_plain(app.smtp, "second").await;
        let c = send_plain(app.smtp, "third").await;
        open_live(&client, &app, "/").await?;
        ensure!(rows(&client).await? == json!([c.to_string(), b.to_string(), a.to_string()]));

        // "/" goes to the search box; j and k move through the rows.
        press(&client, '/').await?;
        ensure!(eval(&client, "document.activeElement.id").await? == "q");
        client
            .execute("document.activeElement.blur()", vec![])
            .await?;
        let focused = "document.activeElement.closest('li.msg')?.dataset.id";
        press(&client, 'j').await?;
        ensure!(eval(&client, focused).await? == c.to_string());
        press(&client, 'j').await?;
        ensure!(eval(&client, focused).await? == b.to_string());
        press(&client, 'k').await?;
        ensure!(eval(&client, focused).await? == c.to_string());
        // Delete removes the focused message and moves on.
        press(&client, char::from(Key::Delete)).await?;
        wait_for(
            &client,
            "the deleted row to go",
            &format!("{} === null", row(&c)),
        )
        .await?;
        ensure!(eval(&client, focused).await? == b.to_string());
        ensure!(app.messages().await.len() == 2);

        // Select two and mark them read, then unread.
        for id in [&a, &b] {
            client
                .find(Locator::Css(&format!("li.msg[data-id=\"{id}\"] .pick")))
                .await?
                .click()
                .await?;
        }
        client
            .find(Locator::Css("button[data-act='read']"))
            .await?
            .click()
            .await?;
        wait_for(
            &client,
            "rows shown read",
            "document.querySelectorAll('li.msg.unread').length === 0",
        )
        .await?;
        ensure!(app.messages().await.iter().all(|m| m.read));
        wait_for(
            &client,
            "no unread in the title",
            "document.title === 'Inbox · Mailsink'",
        )
        .await?;
        client
            .find(Locator::Css("button[data-act='unread']"))
            .await?
            .click()
            .await?;
        wait_for(
            &client,
            "rows shown unread",
            "document.querySelectorAll('li.msg.unread').length === 2",
        )
        .await?;
        ensure!(app.messages().await.iter().all(|m| !m.read));

        // A change through the API shows live.
        let response = reqwest::Client::new()
            .put(format!("http://{}/api/v1/messages", app.http))
            .json(&json!({"IDs": [a.to_string()], "Read": true}))
            .send()
            .await?;
        ensure!(response.status() == 200);
        wait_for(
            &client,
            "the API's change",
            &format!("!{}.classList.contains('unread')", row(&a)),
        )
        .await?;

        // Delete the selection, then everything after confirming.
        client
            .find(Locator::Css(&format!("li.msg[data-id=\"{b}\"] .pick")))
            .await?
            .click()
            .await?;
        client
            .find(Locator::Css("button[data-act='delete']"))
            .await?
            .click()
            .await?;
        wait_for(
            &client,
            "the selection deleted",
            &format!("{} === null", row(&a)),
        )
        .await?;
        ensure!(rows(&client).await? == json!([b.to_string()]));
        client
            .find(Locator::Css("button[data-act='delete-all']"))
            .await?
            .click()
            .await?;
        ensure!(dialog_open(&client).await?, "delete all asks first");
        client.accept_alert().await?;
        wait_for(
            &client,
            "the empty state",
            "!document.querySelector('#empty').hidden",
        )
        .await?;
        ensure!(app.messages().await.is_empty());
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_mail_runs_nothing_on_mailsinks_origin() {
    run("hostile-mail", Theme::Light, |client| async move {
        let app = TestApp::spawn().await;
        let keep = send_plain(app.smtp, "keep me").await;
        let id = send_hostile(app.smtp).await;
        let calm = |what: &'static str| {
            let client = client.clone();
            async move {
                ensure!(!dialog_open(&client).await?, "{what}: a dialog opened");
                ensure!(
                    eval(&client, "typeof window.xss").await? == "undefined",
                    "{what}: script ran"
                );
                ensure!(
                    eval(&client, "document.body.textContent.trim() !== 'owned'").await? == true,
                    "{what}: the page was replaced"
                );
                anyhow::Ok(())
            }
        };

        open_live(&client, &app, "/").await?;
        wait_for(&client, "the hostile row", &row(&id)).await?;
        calm("inbox").await?;
        let subject = text(&client, &format!("li.msg[data-id=\"{id}\"] .subject")).await?;
        ensure!(
            subject == HOSTILE_SUBJECT,
            "the subject shows as text: {subject}"
        );

        open_live(&client, &app, &format!("/view/{id}")).await?;
        ensure!(text(&client, "h1.subject").await? == HOSTILE_SUBJECT);
        let page = eval(&client, OUTSIDE_THE_FRAME).await?;
        let message_window = client.window().await?;
        let frame = client.find(Locator::Css("#preview")).await?;
        frame.enter_frame().await?;
        wait_for(
            &client,
            "the framed HTML",
            "document.querySelector('#bait')",
        )
        .await?;
        // Clicking a javascript: link or posting a form in the preview does nothing.
        client.find(Locator::Css("#jslink")).await?.click().await?;
        client.find(Locator::Css("#post")).await?.click().await?;
        client.enter_parent_frame().await?;
        calm("message page").await?;
        let after = eval(&client, OUTSIDE_THE_FRAME).await?;
        ensure!(
            after == page,
            "the page outside the frame changed: {}",
            first_difference(&page, &after)
        );
        ensure!(eval(&client, "location.pathname").await? == format!("/view/{id}"));
        // A link may open a window (links leave the preview), but one that
        // runs nothing and is not on Mailsink's origin.
        for window in client.windows().await? {
            if window == message_window {
                continue;
            }
            client.switch_to_window(window).await?;
            let at = client.current_url().await?;
            ensure!(
                at.host_str() != Some("127.0.0.1"),
                "a popup on Mailsink's origin: {at}"
            );
            calm("popup").await?;
            client.close_window().await?;
        }
        client.switch_to_window(message_window).await?;
        let frame = client.find(Locator::Css("#preview")).await?;
        frame.enter_frame().await?;
        ensure!(
            text(&client, "#bait").await? == "Hostile mail",
            "the preview navigated away"
        );
        client.enter_parent_frame().await?;

        // Opened on their own, the HTML, an HTML attachment and an SVG run nothing.
        let parts = eval(
            &client,
            "[...document.querySelectorAll('#attachments a')].map(a => a.getAttribute('href'))",
        )
        .await?;
        let mut paths: Vec<String> = serde_json::from_value(parts)?;
        ensure!(paths.len() == 2, "{paths:?}");
        paths.push(format!("/view/{id}.html"));
        for path in paths {
            client.goto(&url(&app, &path)).await?;
            wait_for(
                &client,
                "the document",
                "document.readyState === 'complete'",
            )
            .await?;
            ensure!(!dialog_open(&client).await?, "{path}: a dialog opened");
        }
        ensure!(app.messages().await.len() == 2, "a script reached the API");
        ensure!(app.store.get(&keep).await?.is_some());
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dark_theme_follows_the_os_and_a_phone_fits() {
    run("dark", Theme::Dark, |client| async move {
        let app = TestApp::spawn().await;
        let rich = send_rich(app.smtp, "Your order").await;
        send_plain(app.smtp, "Standup notes").await;
        open_live(&client, &app, "/").await?;
        ensure!(
            eval(
                &client,
                "matchMedia('(prefers-color-scheme: dark)').matches"
            )
            .await?
                == true
        );
        ensure!(
            eval(&client, "getComputedStyle(document.body).backgroundColor").await?
                == "rgb(18, 20, 25)"
        );
        screenshot(&client, "inbox-dark").await?;
        client.goto(&url(&app, &format!("/view/{rich}"))).await?;
        wait_for(
            &client,
            "the message page",
            "document.body.dataset.page === 'message'",
        )
        .await?;
        screenshot(&client, "message-dark").await?;

        // A phone: nothing wider than the screen.
        client.set_window_size(390, 844).await?;
        for (path, name) in [
            ("/".to_owned(), "inbox-phone-dark"),
            (format!("/view/{rich}"), "message-phone-dark"),
        ] {
            client.goto(&url(&app, &path)).await?;
            wait_for(&client, "the page", "document.readyState === 'complete'").await?;
            let overflow = eval(
                &client,
                "document.documentElement.scrollWidth - document.documentElement.clientWidth",
            )
            .await?;
            ensure!(overflow == 0, "{path} scrolls sideways by {overflow}px");
            screenshot(&client, name).await?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_browser_test_saves_a_screenshot() {
    let failure = try_run("deliberate", Theme::Light, |client| async move {
        let app = TestApp::spawn().await;
        client.goto(&url(&app, "/")).await?;
        ensure!(
            text(&client, "#empty h2").await? == "Mail everywhere",
            "the heading is not that"
        );
        Ok(())
    })
    .await
    .expect_err("the body fails");
    assert!(
        failure.message.contains("the heading is not that"),
        "{failure:?}"
    );
    let path = failure.screenshot.expect("a screenshot");
    assert!(path.ends_with("deliberate-failure.png"));
    let png = std::fs::read(&path).expect("the screenshot file");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
}
