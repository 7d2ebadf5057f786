//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2): the MIME tree with each part's
//! type, parameters, id, description, encoding, size and lines as served,
//! and for BODYSTRUCTURE the extension data (MD5, disposition, language,
//! location). Types and parameters keep the case they were sent in, as
//! Dovecot returns them.

use imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_types::core::{IString, NString, Vec1};

use super::envelope;
use super::header::{self, Field, Param};
use super::tree::{self, Entity, Kind};
use super::{istring, nstring, served};

/// The BODY (`extended = false`) or BODYSTRUCTURE (`extended = true`) of a
/// stored message.
pub fn body_structure(message: &[u8], extended: bool) -> BodyStructure<'static> {
    let served = served(message);
    let root = Entity::parse(&served);
    of_entity(&served, &root, extended)
}

fn of_entity(m: &[u8], entity: &Entity, extended: bool) -> BodyStructure<'static> {
    let fields = header::fields(&m[entity.header.clone()]);
    let ct = &entity.content_type;
    if let Kind::Multipart(parts) = &entity.kind {
        let bodies: Vec<BodyStructure<'static>> =
            parts.iter().map(|p| of_entity(m, p, extended)).collect();
        let bodies = Vec1::try_from(bodies).expect("a multipart entity always has a part");
        return BodyStructure::Multi {
            bodies,
            subtype: istring(ct.subtype.as_bytes()),
            extension_data: extended.then(|| MultiPartExtensionData {
                parameter_list: params(&ct.params),
                tail: Some(disposition_and_on(&fields)),
            }),
        };
    }
    let body = &m[entity.body.clone()];
    let size = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let basic = BasicFields {
        parameter_list: params(&ct.params),
        id: text(&fields, "Content-ID"),
        description: text(&fields, "Content-Description"),
        content_transfer_encoding: header::first(&fields, "Content-Transfer-Encoding")
            .and_then(|f| header::transfer_encoding(f.value))
            .map_or_else(|| istring(&b"7bit"[..]), istring),
        size,
    };
    let specific = match &entity.kind {
        Kind::Message(nested) => SpecificFields::Message {
            envelope: Box::new(envelope::of_header(&m[nested.header.clone()])),
            body_structure: Box::new(of_entity(m, nested, extended)),
            number_of_lines: tree::lines(body),
        },
        _ if ct.is_text() => SpecificFields::Text {
            subtype: istring(ct.subtype.as_bytes()),
            number_of_lines: tree::lines(body),
        },
        _ => SpecificFields::Basic {
            r#type: istring(ct.kind.as_bytes()),
            subtype: istring(ct.subtype.as_bytes()),
        },
    };
    BodyStructure::Single {
        body: Body { basic, specific },
        extension_data: extended.then(|| SinglePartExtensionData {
            md5: text(&fields, "Content-MD5"),
            tail: Some(disposition_and_on(&fields)),
        }),
    }
}

fn params(params: &[Param]) -> Vec<(IString<'static>, IString<'static>)> {
    params
        .iter()
        .map(|(a, v)| (istring(a.clone()), istring(v.clone())))
        .collect()
}

/// A header value unfolded, or NIL when the field is absent.
fn text(fields: &[Field<'_>], name: &str) -> NString<'static> {
    nstring(header::first(fields, name).map(|f| header::unfold(f.value)))
}

/// Disposition, language and location: Dovecot always sends all three.
fn disposition_and_on(fields: &[Field<'_>]) -> Disposition<'static> {
    // Dovecot takes the first Content-Disposition that has parameters, or
    // else the last one without.
    let mut disposition = None;
    for field in fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(b"Content-Disposition"))
    {
        if let Some((kind, ps)) = header::disposition(field.value) {
            let done = !ps.is_empty();
            disposition = Some((istring(kind), params(&ps)));
            if done {
                break;
            }
        }
    }
    let language = header::first(fields, "Content-Language")
        .map(|f| header::languages(f.value))
        .unwrap_or_default()
        .into_iter()
        .map(istring)
        .collect();
    Disposition {
        disposition,
        tail: Some(Language {
            language,
            tail: Some(Location {
                location: text(fields, "Content-Location"),
                extensions: Vec::new(),
            }),
        }),
    }
}
