//! Request bodies decoded as Go's `encoding/json` decodes them for Mailpit:
//! field names match case-insensitively and unknown fields are ignored.

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// Decodes `body` into `T`, whose fields must be named in lower case
/// (`#[serde(rename_all = "lowercase")]`). An empty body is None.
pub fn decode<T: DeserializeOwned>(body: &Bytes) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))?;
    serde_json::from_value(lower_keys(value))
        .map(Some)
        .map_err(|e| ApiError::bad(format!("invalid request: {e}")))
}

/// The object keys of a JSON value in lower case, at the top level (where
/// Mailpit's request fields are).
fn lower_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key.to_lowercase(), value))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    struct Body {
        ids: Option<Vec<String>>,
        read: Option<bool>,
    }

    #[test]
    fn field_names_match_in_any_case() {
        for text in [
            r#"{"IDs":["a"],"Read":true}"#,
            r#"{"ids":["a"],"READ":true,"x":1}"#,
        ] {
            let body: Option<Body> = decode(&Bytes::from(text)).expect("valid");
            assert_eq!(
                body,
                Some(Body {
                    ids: Some(vec!["a".into()]),
                    read: Some(true)
                })
            );
        }
        assert_eq!(decode::<Body>(&Bytes::from("  ")).expect("empty"), None);
        assert!(decode::<Body>(&Bytes::from("{nope")).is_err());
        assert!(decode::<Body>(&Bytes::from(r#"{"Read":"yes"}"#)).is_err());
    }
}
