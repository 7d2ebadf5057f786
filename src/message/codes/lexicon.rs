//! The words that tell a one-time code from any other number: keywords that
//! introduce codes, labels that introduce other numbers, currencies, units and
//! dates. English first, with the common European words for "code".

/// What a word says about a number near it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Introduces a one-time code ("code", "OTP", "PIN").
    Positive,
    /// Introduces some other number ("order", "phone", "ZIP code").
    Negative,
}

/// A keyword or label found in a line, as char positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// Words that introduce a one-time code; any word ending in "code" counts too.
const POSITIVE: &str = "\
    otp otps totp one-time onetime verification verify verifying pin pins passcode passcodes \
    token tokens 2fa mfa two-factor 2-step kod código codigo codice códigos";

/// Words that make a following "code" some other kind of code.
const QUALIFIERS: &str = "\
    zip postal post area country error status promo promotional discount coupon voucher gift \
    tracking product sort swift bic qr bar dialing dialling source response reason http \
    referral invite invitation dress tax airport iata bank branch routing color colour class \
    course item hs sku style exit return shipping reward redemption offer sale campaign \
    affiliate partner unicode ascii morse fare";

/// Words ending in "code" that are not codes to type.
const NOT_CODES: &str = "\
    zipcode postcode barcode qrcode promocode geocode unicode opcode decode encode transcode \
    shortcode sourcecode recode bytecode pseudocode";

/// Labels that introduce numbers other than codes.
const NEGATIVE: &str = "\
    order orders invoice receipt account acct phone tel telephone fax mobile cell call zip \
    postal reference ref ticket case customer member membership tracking transaction booking \
    reservation flight room suite apt apartment floor street avenue road box extension ext \
    amount total subtotal price cost balance qty quantity version page model serial sku item \
    items product id card ending contact helpline hotline support patient policy claim loan \
    license licence vat iban routing employee student seat gate platform train bus route \
    unit lot batch build release issue bug bestellung rechnung commande facture";

/// Currency codes and names written next to amounts.
const CURRENCIES: &str = "\
    usd eur gbp jpy chf cad aud nzd inr cny rmb sek nok dkk pln czk huf brl mxn zar krw rub \
    hkd sgd dollars dollar euros euro pounds pound yen rs kr zl bucks cents";

/// Words that make a number a count or a measure.
const UNITS: &str = "\
    seconds second secs sec minutes minute mins min hours hour hrs hr days day weeks week \
    months month years year times attempts tries points pts items people users members views \
    messages emails words characters chars bytes kb mb gb tb km miles mi m kg g lbs lb px ms \
    results files customers orders steps pages ft feet meters metres calories kcal mph rpm \
    dpi hz mhz ghz mah kw kwh tokens codes credits coins licenses seats units pcs pieces \
    copies tickets";

/// Month and weekday names, English.
const DATE_WORDS: &str = "\
    january february march april may june july august september october november december \
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday \
    friday saturday sunday mon tue tues wed thu thur thurs fri sat sun";

/// Whether `word` is one of the space-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    !word.is_empty() && list.split_whitespace().any(|w| w == word)
}

/// Whether `word` names a currency.
pub fn is_currency(word: &str) -> bool {
    listed(CURRENCIES, &word.to_ascii_lowercase())
}

/// Whether `word` is a unit or a counted thing ("minutes", "km", "users").
pub fn is_unit(word: &str) -> bool {
    listed(UNITS, &word.to_ascii_lowercase())
}

/// Whether `word` (lower case) is a month or weekday name.
pub fn is_date_word(word: &str) -> bool {
    listed(DATE_WORDS, word)
}

/// The keywords and labels in a lower-case line. Words are runs of letters and
/// digits, with inner hyphens ("one-time", "zip-code").
pub fn words(lower: &[char]) -> Vec<Word> {
    let spans = word_spans(lower);
    let mut out = Vec::new();
    for (index, &(start, end)) in spans.iter().enumerate() {
        let word: String = lower[start..end].iter().collect();
        let previous: Option<String> = index
            .checked_sub(1)
            .map(|i| spans[i])
            .filter(|&(_, prev_end)| lower[prev_end..start].iter().all(|c| c.is_whitespace()))
            .map(|(s, e)| lower[s..e].iter().collect());
        // "one time" written as two words.
        if word == "time" && previous.as_deref() == Some("one") {
            out.push(Word {
                start: spans[index - 1].0,
                end,
                kind: Kind::Positive,
            });
            continue;
        }
        if let Some(kind) = classify(&word, previous.as_deref()) {
            out.push(Word { start, end, kind });
        }
    }
    out
}

fn classify(word: &str, previous: Option<&str>) -> Option<Kind> {
    if listed(POSITIVE, word) {
        return Some(Kind::Positive);
    }
    let parts: Vec<&str> = word.split('-').collect();
    let last = parts.last().copied().unwrap_or(word);
    if last.ends_with("code") || last.ends_with("codes") {
        let qualifier = if parts.len() > 1 {
            parts.get(parts.len() - 2).copied()
        } else {
            previous
        };
        let base = last.trim_end_matches('s');
        if listed(NOT_CODES, base) || qualifier.is_some_and(|q| listed(QUALIFIERS, q)) {
            return Some(Kind::Negative);
        }
        return Some(Kind::Positive);
    }
    if parts.iter().any(|p| listed(POSITIVE, p)) {
        return Some(Kind::Positive);
    }
    if parts.iter().any(|p| listed(NEGATIVE, p)) {
        return Some(Kind::Negative);
    }
    None
}

fn word_spans(lower: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lower.len()
            && (lower[i].is_alphanumeric()
                || lower[i] == '-' && lower.get(i + 1).is_some_and(|c| c.is_alphanumeric()))
        {
            i += 1;
        }
        spans.push((start, i));
    }
    spans
}
