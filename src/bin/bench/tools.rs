//! Finding Postfix's `smtp-source` and `smtp-sink`, which the benchmark uses
//! but does not install.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Where Debian puts the tools; searched after `$PATH` because a normal
/// user's `$PATH` often lacks the sbin directories.
const EXTRA_DIRS: [&str; 2] = ["/usr/sbin", "/usr/local/sbin"];

/// How to get the tools, shown when they are missing. Preseeding "No
/// configuration" keeps the install free of prompts and leaves the Postfix
/// mail daemon unconfigured, so it does not start; only the tools are used.
pub const INSTALL_HINT: &str = "\
smtp-source and smtp-sink come with Debian's postfix package. Install it without prompts:

    echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y postfix

(as root, after `apt-get update`; 'No configuration' leaves the Postfix daemon unconfigured and stopped)";

pub struct Tools {
    pub smtp_source: PathBuf,
    pub smtp_sink: PathBuf,
}

impl Tools {
    /// Finds both tools or explains how to install them.
    pub fn locate() -> Result<Self> {
        match (find("smtp-source"), find("smtp-sink")) {
            (Some(smtp_source), Some(smtp_sink)) => Ok(Self {
                smtp_source,
                smtp_sink,
            }),
            _ => bail!(
                "smtp-source and smtp-sink not found in $PATH or {}.\n\n{INSTALL_HINT}",
                EXTRA_DIRS.join(", ")
            ),
        }
    }
}

fn find(name: &str) -> Option<PathBuf> {
    let path_dirs = env::var_os("PATH")
        .map(|paths| env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_file(candidate))
}

fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|meta| meta.is_file())
}
