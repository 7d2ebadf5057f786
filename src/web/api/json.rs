//! Request bodies decoded as Go's `encoding/json` decodes them for Mailpit:
//! field names match case-insensitively and unknown fields are ignored.

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// Decodes `body` into `T`, whose fields must be named in lower case
/// (`#[serde(rename_all = "lowercase")]`). An empty body is None.
pub fn decode<T: DeserializeOwned>(body: &Bytes) -> Result<Option<T>, ApiError> {
    decode_nested(body, &[])
}

/// Like [`decode`], lower-casing nested objects' keys too, except inside the
/// fields named in `verbatim` (maps whose keys are data, such as headers).
pub fn decode_nested<T: DeserializeOwned>(
    body: &Bytes,
    verbatim: &[&str],
) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))?;
    serde_json::from_value(lower_keys(value, verbatim))
        .map(Some)
        .map_err(|e| ApiError::bad(format!("invalid request: {e}")))
}

fn lower_keys(value: Value, verbatim: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let key = key.to_lowercase();
                    let value = if verbatim.contains(&key.as_str()) {
                        value
                    } else {
                        lower_keys(value, verbatim)
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| lower_keys(v, verbatim)).collect())
        }
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

    #[test]
    fn nested_keys_except_verbatim_maps() {
        let value = lower_keys(
            serde_json::json!({"From": {"Email": "a"}, "To": [{"NAME": "b"}], "Headers": {"X-Id": "1"}}),
            &["headers"],
        );
        assert_eq!(
            value,
            serde_json::json!({"from": {"email": "a"}, "to": [{"name": "b"}], "headers": {"X-Id": "1"}})
        );
    }
}
