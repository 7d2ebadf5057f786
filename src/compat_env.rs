//! Mailpit (`MP_*`) and MailHog (`MH_*`) environment variables, translated to
//! their `MAILSINK_*` equivalents before the command line is parsed, so a
//! compose file or CI job switches to Mailsink by changing only the image.
//!
//! A `MAILSINK_*` variable that is set wins over its Mailpit or MailHog
//! counterpart, except the ones the Docker image presets (it names them in
//! `MAILSINK_IMAGE_DEFAULTS`): those are only defaults, so that
//! `MP_SMTP_BIND_ADDR` still moves the SMTP listener inside the image.
//! Each translated value is checked with the parser of the option it sets, so
//! a bad one is refused naming the Mailpit or MailHog variable. Variables with
//! no Mailsink equivalent are reported as ignored.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::path::Path;

use crate::auth::Credentials;

/// The variable in which the Docker image lists the `MAILSINK_*` variables it
/// presets, separated by spaces.
pub const IMAGE_DEFAULTS: &str = "MAILSINK_IMAGE_DEFAULTS";

/// What the environment translates to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Translation {
    /// `MAILSINK_*` variables to set, with their values.
    pub set: Vec<(String, String)>,
    /// Variables that were read but have no effect, with the reason.
    pub warnings: Vec<String>,
}

/// A Mailpit or MailHog variable holds a value Mailsink cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?}: {reason}")]
pub struct Error {
    pub var: String,
    pub value: String,
    pub reason: String,
}

/// How a compatible variable's value becomes a Mailsink value.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// The same text (an address, a duration, a path, a number).
    Same,
    /// Mailpit's credentials, `user:pass` separated by spaces.
    Credentials,
    /// Mailpit's size in megabytes; 0 means unlimited.
    Megabytes,
    /// Mailpit's message limit; 0 means unlimited.
    MaxMessages,
    /// Mailpit's database: a file, or a directory to put the file in.
    Database,
    /// A TLS file, or Mailpit's `sans:…` (generate one), which Mailsink does anyway.
    TlsFile,
    /// A boolean that turns a log level on.
    LogLevel(&'static str),
}

/// Variables with a direct equivalent.
const MAPPED: &[(&str, &str, Kind)] = &[
    ("MP_SMTP_BIND_ADDR", "MAILSINK_SMTP_ADDR", Kind::Same),
    ("MP_UI_BIND_ADDR", "MAILSINK_HTTP_ADDR", Kind::Same),
    ("MP_POP3_BIND_ADDR", "MAILSINK_POP3_ADDR", Kind::Same),
    ("MP_DATABASE", "MAILSINK_DB", Kind::Database),
    (
        "MP_MAX_MESSAGES",
        "MAILSINK_MAX_MESSAGES",
        Kind::MaxMessages,
    ),
    ("MP_MAX_AGE", "MAILSINK_MAX_AGE", Kind::Same),
    (
        "MP_MAX_MESSAGE_SIZE",
        "MAILSINK_MAX_MESSAGE_SIZE",
        Kind::Megabytes,
    ),
    (
        "MP_SMTP_MAX_RECIPIENTS",
        "MAILSINK_SMTP_MAX_RECIPIENTS",
        Kind::Same,
    ),
    ("MP_SMTP_AUTH", "MAILSINK_SMTP_AUTH", Kind::Credentials),
    ("MP_SMTP_AUTH_FILE", "MAILSINK_SMTP_AUTH_FILE", Kind::Same),
    ("MP_POP3_AUTH", "MAILSINK_POP3_AUTH", Kind::Credentials),
    ("MP_POP3_AUTH_FILE", "MAILSINK_POP3_AUTH_FILE", Kind::Same),
    ("MP_UI_AUTH", "MAILSINK_UI_AUTH", Kind::Credentials),
    ("MP_UI_AUTH_FILE", "MAILSINK_UI_AUTH_FILE", Kind::Same),
    ("MP_SMTP_TLS_CERT", "MAILSINK_TLS_CERT", Kind::TlsFile),
    ("MP_SMTP_TLS_KEY", "MAILSINK_TLS_KEY", Kind::TlsFile),
    ("MP_VERBOSE", "MAILSINK_LOG_LEVEL", Kind::LogLevel("debug")),
    ("MP_QUIET", "MAILSINK_LOG_LEVEL", Kind::LogLevel("error")),
    ("MH_SMTP_BIND_ADDR", "MAILSINK_SMTP_ADDR", Kind::Same),
    ("MH_API_BIND_ADDR", "MAILSINK_HTTP_ADDR", Kind::Same),
    ("MH_UI_BIND_ADDR", "MAILSINK_HTTP_ADDR", Kind::Same),
    ("MH_HOSTNAME", "MAILSINK_HOSTNAME", Kind::Same),
];

/// Booleans that ask for what Mailsink always does.
const ALWAYS: &[(&str, &str)] = &[
    (
        "MP_SMTP_AUTH_ACCEPT_ANY",
        "any SMTP credentials are accepted unless SMTP credentials are configured",
    ),
    (
        "MP_SMTP_AUTH_ALLOW_INSECURE",
        "SMTP AUTH is allowed without TLS",
    ),
    (
        "MP_POP3_AUTH_ACCEPT_ANY",
        "any POP3 login is accepted unless POP3 credentials are configured",
    ),
    (
        "MP_SMTP_DISABLE_RDNS",
        "Mailsink never looks up client names",
    ),
    (
        "MP_DISABLE_VERSION_CHECK",
        "Mailsink never checks for new versions",
    ),
];

/// Translates the Mailpit and MailHog variables in `vars`.
///
/// `known` tells whether a `MAILSINK_*` variable is read by some option of
/// this build (see [`known_variables`]); `check(target, value)` validates a
/// value with the parser of the option that reads `target`.
pub fn translate(
    vars: &BTreeMap<String, String>,
    known: &dyn Fn(&str) -> bool,
    check: &dyn Fn(&str, &str) -> Result<(), String>,
) -> Result<Translation, Error> {
    let presets: HashSet<&str> = vars
        .get(IMAGE_DEFAULTS)
        .map(|list| list.split_whitespace().collect())
        .unwrap_or_default();
    let mut out = Translation::default();
    let mut chosen: BTreeMap<&str, (&str, String)> = BTreeMap::new();
    let error = |var: &str, value: &str, reason: String| Error {
        var: var.to_owned(),
        value: value.to_owned(),
        reason,
    };

    for &(var, target, kind) in MAPPED {
        let Some(value) = vars.get(var) else {
            continue;
        };
        let value = value.trim();
        let Some(translated) = convert(kind, value).map_err(|reason| error(var, value, reason))?
        else {
            continue;
        };
        if !known(target) {
            out.warnings.push(unsupported(var));
            continue;
        }
        if vars.contains_key(target) && !presets.contains(target) {
            out.warnings
                .push(format!("{var} is ignored: {target} is set and wins"));
            continue;
        }
        check(target, &translated).map_err(|reason| error(var, value, reason))?;
        if let Some((first, earlier)) = chosen.get(target) {
            if *earlier != translated {
                return Err(error(
                    var,
                    value,
                    format!("{first} asks for {earlier:?}, and Mailsink has one {target}"),
                ));
            }
            continue;
        }
        chosen.insert(target, (var, translated));
    }

    if let Some(db) = mailhog_storage(vars, &mut out.warnings)? {
        let target = "MAILSINK_DB";
        if vars.contains_key(target) || chosen.contains_key(target) {
            out.warnings
                .push(format!("MH_STORAGE is ignored: {target} is set and wins"));
        } else {
            chosen.insert(target, ("MH_STORAGE", db));
        }
    }

    for &(var, why) in ALWAYS {
        if let Some(value) = vars.get(var) {
            parse_bool(value).map_err(|reason| error(var, value, reason))?;
            out.warnings
                .push(format!("{var} changes nothing here: {why}"));
        }
    }

    let handled: HashSet<&str> = MAPPED
        .iter()
        .map(|m| m.0)
        .chain(ALWAYS.iter().map(|a| a.0))
        .chain(["MH_STORAGE", "MH_MAILDIR_PATH"])
        .collect();
    for var in vars.keys() {
        let compat = var.starts_with("MP_") || var.starts_with("MH_");
        if compat && !handled.contains(var.as_str()) {
            out.warnings.push(unsupported(var));
        }
    }

    out.set = chosen
        .into_iter()
        .map(|(target, (_, value))| (target.to_owned(), value))
        .collect();
    Ok(out)
}

fn unsupported(var: &str) -> String {
    let mut text = format!("{var} is not supported by Mailsink and is ignored");
    if var.contains("AUTH") && (var.starts_with("MP_UI") || var == "MH_AUTH_FILE") {
        text.push_str(": the web UI and API are NOT password-protected");
    }
    text
}

/// `Ok(None)` when the variable asks for Mailsink's default.
fn convert(kind: Kind, value: &str) -> Result<Option<String>, String> {
    Ok(Some(match kind {
        Kind::Same => value.to_owned(),
        Kind::Credentials => {
            let list = value.split_whitespace().collect::<Vec<_>>().join(",");
            list.parse::<Credentials>().map_err(|e| e.to_string())?;
            list
        }
        Kind::Megabytes => {
            let mb: u64 = value
                .parse()
                .map_err(|_| "expected a number of megabytes".to_owned())?;
            if mb == 0 {
                return Err("Mailsink has no unlimited size; give a number of megabytes".into());
            }
            format!("{mb}MB")
        }
        Kind::MaxMessages => {
            let n: u64 = value
                .parse()
                .map_err(|_| "expected a number of messages".to_owned())?;
            if n == 0 {
                return Ok(None);
            }
            n.to_string()
        }
        Kind::Database => {
            if value.is_empty() {
                return Ok(None);
            }
            let path = Path::new(value);
            if path.is_dir() {
                path.join("mailsink.db").display().to_string()
            } else {
                value.to_owned()
            }
        }
        Kind::TlsFile => {
            if value.starts_with("sans:") {
                // Mailpit generates a self-signed certificate for these names;
                // Mailsink generates one when no certificate is given.
                return Ok(None);
            }
            value.to_owned()
        }
        Kind::LogLevel(level) => {
            if !parse_bool(value)? {
                return Ok(None);
            }
            level.to_owned()
        }
    }))
}

/// MailHog's `MH_STORAGE`: `memory` is Mailsink's temporary database,
/// `maildir` keeps mail in `MH_MAILDIR_PATH`, where the database goes.
fn mailhog_storage(
    vars: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, Error> {
    let Some(storage) = vars.get("MH_STORAGE") else {
        return Ok(None);
    };
    match storage.trim().to_ascii_lowercase().as_str() {
        "memory" => Ok(None),
        "maildir" => {
            let dir = vars
                .get("MH_MAILDIR_PATH")
                .map(|d| d.trim())
                .filter(|d| !d.is_empty())
                .unwrap_or(".");
            Ok(Some(
                Path::new(dir).join("mailsink.db").display().to_string(),
            ))
        }
        "mongodb" => {
            warnings.push(
                "MH_STORAGE=mongodb is not supported: mail is kept in a temporary database"
                    .to_owned(),
            );
            Ok(None)
        }
        _ => Err(Error {
            var: "MH_STORAGE".to_owned(),
            value: storage.clone(),
            reason: "expected memory, mongodb or maildir".to_owned(),
        }),
    }
}

/// Mailpit's booleans: 1, true, yes (and 0, false, no), in any case.
fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

/// Every `MAILSINK_*` variable some option of `command` (or of its
/// subcommands) reads.
pub fn known_variables(command: &clap::Command) -> HashSet<String> {
    let mut names: HashSet<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .filter_map(|env| env.to_str().map(str::to_owned))
        .collect();
    for sub in command.get_subcommands() {
        names.extend(known_variables(sub));
    }
    names
}

/// Checks `value` with the parser of the option of `command` that reads the
/// variable `target`.
pub fn check_value(command: &clap::Command, target: &str, value: &str) -> Result<(), String> {
    let found = std::iter::once(command)
        .chain(command.get_subcommands())
        .find_map(|cmd| {
            cmd.get_arguments()
                .find(|arg| arg.get_env() == Some(OsStr::new(target)))
        });
    let Some(arg) = found else {
        return Ok(());
    };
    // The option's own parser, on a probe command holding only it.
    let probe = clap::Command::new("mailsink").no_binary_name(true).arg(
        clap::Arg::new("value")
            .allow_hyphen_values(true)
            .value_parser(arg.get_value_parser().clone()),
    );
    probe
        .try_get_matches_from([value])
        .map(|_| ())
        .map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first
                .trim_start_matches("error: ")
                .replace(" for '[value]'", "")
        })
}

/// Translates this process's environment for the `mailsink` command line.
pub fn from_env(command: &clap::Command) -> Result<Translation, Error> {
    let mut vars = BTreeMap::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let relevant =
            key.starts_with("MP_") || key.starts_with("MH_") || key.starts_with("MAILSINK_");
        if !relevant {
            continue;
        }
        let Some(value) = value.to_str() else {
            return Err(Error {
                var: key.to_owned(),
                value: value.to_string_lossy().into_owned(),
                reason: "not valid UTF-8".to_owned(),
            });
        };
        vars.insert(key.to_owned(), value.to_owned());
    }
    let known = known_variables(command);
    translate(&vars, &|name| known.contains(name), &|target, value| {
        check_value(command, target, value)
    })
}

#[cfg(test)]
#[path = "compat_env_tests.rs"]
mod tests;
