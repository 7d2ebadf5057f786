//! The application: opens the store, binds every listener first (so port 0
//! works and the real addresses are known before anything is served), then
//! runs them until shutdown and closes everything in order.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Listen};
use crate::stats::Stats;
use crate::store::{Retention, Store};
use crate::{auth, imap, pop3, smtp, store, tls, web};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen for {service} on {addr}: {source}")]
    Bind {
        service: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("TLS: {0}")]
    Tls(#[from] tls::Error),
    #[error("credentials: {0}")]
    Credentials(#[from] auth::CredentialsError),
}

/// The addresses the listeners are bound to (None when off).
#[derive(Debug, Clone, Copy, Default)]
pub struct Addresses {
    pub smtp: Option<SocketAddr>,
    pub smtps: Option<SocketAddr>,
    pub pop3: Option<SocketAddr>,
    pub pop3s: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
}

/// A built application: store open, listeners bound, nothing served yet.
pub struct App {
    store: Store,
    stats: Arc<Stats>,
    hostname: String,
    max_message_size: usize,
    smtp: smtp::Server,
    smtp_listener: Option<TcpListener>,
    smtps_listener: Option<TcpListener>,
    pop3: pop3::Server,
    pop3_listener: Option<TcpListener>,
    pop3s_listener: Option<TcpListener>,
    imap: imap::Server,
    imap_listener: Option<TcpListener>,
    imaps_listener: Option<TcpListener>,
    http_listener: Option<TcpListener>,
    ui_auth: Option<web::BasicAuth>,
    addresses: Addresses,
    retention: Retention,
    cancel: CancellationToken,
}

impl App {
    /// Opens the store and binds every listener that is on.
    pub async fn build(config: Config) -> Result<Self, Error> {
        let credentials = config.smtp_credentials()?;
        let pop3_credentials = config.pop3_credentials()?;
        let imap_credentials = config.imap_credentials()?;
        let tls = tls::acceptor(
            config.tls_cert.as_deref(),
            config.tls_key.as_deref(),
            &config.hostname,
        )?;
        let store = Store::open(config.db.as_deref(), config.db_sync)?;
        let smtp_listener = bind("SMTP", config.smtp_addr).await?;
        let smtps_listener = bind("SMTPS", config.smtps_addr).await?;
        let pop3_listener = bind("POP3", config.pop3_addr).await?;
        let pop3s_listener = bind("POP3S", config.pop3s_addr).await?;
        let http_listener = bind("HTTP", config.http_addr).await?;
        let imap_listener = bind("IMAP", config.imap_addr).await?;
        let imaps_listener = bind("IMAPS", config.imaps_addr).await?;
        let addresses = Addresses {
            smtp: local_addr(&smtp_listener),
            smtps: local_addr(&smtps_listener),
            pop3: local_addr(&pop3_listener),
            pop3s: local_addr(&pop3s_listener),
            http: local_addr(&http_listener),
            imap: local_addr(&imap_listener),
            imaps: local_addr(&imaps_listener),
        };
        let cancel = CancellationToken::new();
        let settings = smtp::Settings {
            hostname: config.hostname.clone(),
            credentials,
            max_message_size: usize::try_from(config.max_message_size.0).unwrap_or(usize::MAX),
            max_recipients: config.smtp_max_recipients as usize,
            max_line_length: config.smtp_max_line_length as usize,
            idle_timeout: config.smtp_idle_timeout,
            max_connections: config.smtp_max_connections as usize,
        };
        let stats = Arc::new(Stats::default());
        let pop3 = pop3::Server::new(pop3::Context {
            settings: pop3::Settings {
                hostname: config.hostname.clone(),
                credentials: pop3_credentials,
                idle_timeout: config.pop3_idle_timeout,
                // POP3 sessions are few and short; SMTP's cap bounds them too.
                max_connections: config.smtp_max_connections as usize,
            },
            store: store.clone(),
            tls: tls.clone(),
            cancel: cancel.clone(),
        });
        let imap = imap::Server::new(imap::Context {
            settings: imap::Settings {
                hostname: config.hostname.clone(),
                credentials: imap_credentials,
                idle_timeout: config.imap_idle_timeout,
                // Like POP3's, IMAP sessions share SMTP's cap.
                max_connections: config.smtp_max_connections as usize,
                max_message_size: usize::try_from(config.max_message_size.0).unwrap_or(usize::MAX),
            },
            store: store.clone(),
            tls: tls.clone(),
            cancel: cancel.clone(),
        });
        Ok(Self {
            imap,
            imap_listener,
            imaps_listener,
            pop3,
            pop3_listener,
            pop3s_listener,
            hostname: settings.hostname.clone(),
            max_message_size: settings.max_message_size,
            smtp: smtp::Server::new(smtp::Context {
                settings,
                store: store.clone(),
                stats: Arc::clone(&stats),
                tls,
                cancel: cancel.clone(),
            }),
            store,
            stats,
            smtp_listener,
            smtps_listener,
            http_listener,
            ui_auth: config.ui_auth.clone(),
            addresses,
            retention: Retention {
                max_messages: config.max_messages,
                max_age: config.max_age,
            },
            cancel,
        })
    }

    /// Where each listener is bound.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// A handle to the store.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Cancelling this token shuts the application down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Serves until the shutdown token is cancelled, then stops accepting,
    /// lets each session finish or answer 421, and closes the database.
    pub async fn run(self) {
        let tracker = TaskTracker::new();
        let smtp = Arc::new(self.smtp);
        for (listener, implicit_tls) in [(self.smtp_listener, false), (self.smtps_listener, true)] {
            if let Some(listener) = listener {
                let smtp = Arc::clone(&smtp);
                let sessions = tracker.clone();
                tracker.spawn(async move { smtp.serve(listener, implicit_tls, sessions).await });
            }
        }
        let pop3 = Arc::new(self.pop3);
        for (listener, implicit_tls) in [(self.pop3_listener, false), (self.pop3s_listener, true)] {
            if let Some(listener) = listener {
                let pop3 = Arc::clone(&pop3);
                let sessions = tracker.clone();
                tracker.spawn(async move { pop3.serve(listener, implicit_tls, sessions).await });
            }
        }
        let imap = Arc::new(self.imap);
        for (listener, implicit_tls) in [(self.imap_listener, false), (self.imaps_listener, true)] {
            if let Some(listener) = listener {
                let imap = Arc::clone(&imap);
                let sessions = tracker.clone();
                tracker.spawn(async move { imap.serve(listener, implicit_tls, sessions).await });
            }
        }
        if let Some(listener) = self.http_listener {
            let router = web::app(web::AppState {
                store: self.store.clone(),
                stats: Arc::clone(&self.stats),
                smtp_addr: self.addresses.smtp,
                hostname: self.hostname.clone(),
                max_message_size: self.max_message_size,
                shutdown: self.cancel.clone(),
                ui_auth: self.ui_auth.clone(),
            });
            tracker.spawn(web::serve(listener, router, self.cancel.clone()));
        }
        tracker.spawn(store::retention::run(
            self.store.clone(),
            self.retention,
            self.cancel.clone(),
        ));
        self.cancel.cancelled().await;
        tracker.close();
        tracker.wait().await;
        drop(smtp);
        drop(pop3);
        drop(imap);
        self.store.close().await;
    }
}

async fn bind(service: &'static str, listen: Listen) -> Result<Option<TcpListener>, Error> {
    let Some(addr) = listen.addr() else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            service,
            addr,
            source,
        })?;
    Ok(Some(listener))
}

fn local_addr(listener: &Option<TcpListener>) -> Option<SocketAddr> {
    listener.as_ref().and_then(|l| l.local_addr().ok())
}
