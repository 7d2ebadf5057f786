//! Query parameters, read leniently as Mailpit reads them: a negative or
//! non-numeric `start` or `limit` falls back to its default.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::error::ApiError;
use crate::store::Query;
use crate::store::search;

/// Items a page holds unless `limit` says otherwise.
const DEFAULT_LIMIT: u64 = 50;

/// The query string of a request.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Matches to skip; 0 unless a non-negative number is given.
    pub fn start(&self) -> u64 {
        self.get("start")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Most items to return: 50 by default, None (all) for `limit=0`.
    pub fn limit(&self) -> Option<u64> {
        match self.get("limit").and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(DEFAULT_LIMIT),
        }
    }

    /// The time zone for dates in searches (`tz`), UTC by default.
    pub fn tz(&self) -> Result<Tz, ApiError> {
        Ok(search::parse_time_zone(self.get("tz").unwrap_or_default())?)
    }

    /// The search in `query`, if one is given.
    pub fn search(&self) -> Result<Option<Query>, ApiError> {
        match self.get("query").map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Ok(Some(search::parse(text, self.tz()?)?)),
        }
    }

    /// The search in `query`, which must be given.
    pub fn required_search(&self) -> Result<Query, ApiError> {
        self.search()?
            .ok_or_else(|| ApiError::bad("Error: no search query"))
    }

    /// Mailpit's undocumented `before`: only messages received before this date.
    pub fn before(&self) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(text) = self.get("before").map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        match search::parse(&format!("before:\"{text}\""), self.tz()?)? {
            Query::Term(search::Term::Before(at)) => Ok(Some(at)),
            _ => Err(ApiError::bad(format!(
                "Error: invalid before date {text:?}"
            ))),
        }
    }

    /// A flag such as `dl=1`, `peek=1` or `embed=true`.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name).map(str::trim), Some("1" | "true" | "yes"))
    }

    /// A number parameter; `default` when absent, an error naming it when bad.
    pub fn number(&self, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
        match self.get(name).map(str::trim) {
            None | Some("") => Ok(default),
            Some(text) => match text.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(ApiError::bad(format!(
                    "Error: {name} must be a whole number from 0 to {max}, got {text:?}"
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )
    }

    #[test]
    fn paging_falls_back_like_mailpit() {
        assert_eq!(params(&[]).limit(), Some(50));
        assert_eq!(params(&[("limit", "0")]).limit(), None);
        assert_eq!(params(&[("limit", "-3")]).limit(), Some(50));
        assert_eq!(params(&[("limit", "x")]).limit(), Some(50));
        assert_eq!(params(&[("start", "-1")]).start(), 0);
        assert_eq!(params(&[("start", "7")]).start(), 7);
    }

    #[test]
    fn searches_and_numbers() {
        assert!(params(&[("query", "  ")]).search().expect("ok").is_none());
        assert!(params(&[("query", "(")]).search().is_err());
        assert!(
            params(&[("query", "a"), ("tz", "Nowhere/Land")])
                .search()
                .is_err()
        );
        assert!(params(&[]).required_search().is_err());
        assert_eq!(
            params(&[("count", "3")]).number("count", 1, 10).ok(),
            Some(3)
        );
        assert!(params(&[("count", "11")]).number("count", 1, 10).is_err());
        assert!(params(&[("count", "-1")]).number("count", 1, 10).is_err());
        assert!(
            params(&[("before", "2026-01-01")])
                .before()
                .expect("ok")
                .is_some()
        );
        assert!(params(&[("before", "someday")]).before().is_err());
    }
}
