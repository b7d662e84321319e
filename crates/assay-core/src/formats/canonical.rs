//! Canonical JSON after RFC 8785 (JCS): the bytes that provenance events are
//! hashed and signed over, so they must not depend on how a value was built.
//!
//! One deliberate difference from the RFC: integers that serde_json holds as
//! `i64`/`u64` are written exactly. JCS would first round them to an IEEE
//! double, which silently changes integers above 2^53; every integer up to
//! 2^53 comes out the same either way.

use serde_json::{Map, Number, Value};

/// The canonical form of `value`. Infallible: a `serde_json::Value` cannot
/// hold NaN or an infinity, the only numbers JCS has no form for.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    canonical_json_into(value, &mut out);
    out
}

/// Appends the canonical form of `value` to `out`, so a caller hashing many
/// events can reuse one buffer.
pub fn canonical_json_into(value: &Value, out: &mut Vec<u8>) {
    write(value, out, true);
}

/// Arrays at least this long are written on every core: a manifest's
/// `assets` holds one entry per asset.
const PARALLEL_ITEMS: usize = 8192;

/// `parallel` is false inside a part already written on its own thread.
fn write(value: &Value, out: &mut Vec<u8>, parallel: bool) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            if parallel && items.len() >= PARALLEL_ITEMS {
                write_array(items, |item, out| write(item, out, false), out);
            } else {
                out.push(b'[');
                write_items(items, |item, out| write(item, out, false), out);
                out.push(b']');
            }
        }
        Value::Object(map) => write_members(map.iter(), out, parallel),
    }
}

fn write_items<T>(items: &[T], each: impl Fn(&T, &mut Vec<u8>), out: &mut Vec<u8>) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(item, out);
    }
}

/// Appends the JSON array of `items`, each written by `each`, in one part
/// per core joined in order: the same bytes as writing them one after the
/// other. For long arrays, such as a manifest's entries, which need not be
/// `Value`s.
pub(crate) fn write_array<T: Sync>(
    items: &[T],
    each: impl Fn(&T, &mut Vec<u8>) + Sync,
    out: &mut Vec<u8>,
) {
    out.push(b'[');
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let part = items.len().div_ceil(cores).max(1);
    let each = &each;
    let parts: Vec<Option<Vec<u8>>> = std::thread::scope(|s| {
        let threads: Vec<_> = items
            .chunks(part)
            .map(|chunk| {
                s.spawn(move || {
                    let mut bytes = Vec::with_capacity(chunk.len() * 256);
                    write_items(chunk, each, &mut bytes);
                    bytes
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().ok()).collect()
    });
    for (i, (bytes, chunk)) in parts.into_iter().zip(items.chunks(part)).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match bytes {
            Some(bytes) => out.extend_from_slice(&bytes),
            // A part's thread cannot fail short of running out of memory;
            // should it, the part is written here instead.
            None => write_items(chunk, each, out),
        }
    }
    out.push(b']');
}

/// The canonical form of the object `map` with one more member, `key`,
/// whose value `raw` is already canonical JSON (a member of `map` of the
/// same name is left out): how a document is written around a member too
/// large to hold as a `Value`, such as a manifest's `assets`.
pub(crate) fn canonical_json_with(map: &Map<String, Value>, key: &str, raw: &[u8]) -> Vec<u8> {
    let mut members: Vec<(&str, Option<&Value>)> = map
        .iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| (k.as_str(), Some(v)))
        .collect();
    members.push((key, None));
    members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    let mut out = Vec::with_capacity(raw.len() + 4096);
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, &mut out);
        out.push(b':');
        match value {
            Some(value) => write(value, &mut out, true),
            None => out.extend_from_slice(raw),
        }
    }
    out.push(b'}');
    out
}

/// The canonical form of the object `value` without its member `skip`:
/// what a document signed in place was signed over, read without copying
/// the document (see `signed.rs`).
pub(crate) fn canonical_json_except(value: &Value, skip: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    match value {
        Value::Object(map) => write_members(map.iter().filter(|(k, _)| *k != skip), &mut out, true),
        other => write(other, &mut out, true),
    }
    out
}

fn write_members<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut Vec<u8>,
    parallel: bool,
) {
    // JCS orders keys by UTF-16 code units. serde_json's map already holds
    // them in UTF-8 byte order, which is the same order unless a key has a
    // character beyond U+FFFF; only then (or if the map kept insertion
    // order) is there anything to sort. Most objects skip the sort.
    let mut entries: Vec<(&String, &Value)> = members.collect();
    let in_order = entries.windows(2).all(|w| w[0].0 < w[1].0)
        && entries.iter().all(|(k, _)| k.bytes().all(|b| b < 0xF0));
    if !in_order {
        entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    }
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write(value, out, parallel);
    }
    out.push(b'}');
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
        // ryu-js prints the shortest round-trip digits in ECMAScript's
        // Number-to-String layout (1e+21, 1e-7, 0.000001, -0 as 0), which is
        // exactly what RFC 8785 section 3.2.2.3 prescribes.
        let mut buf = ryu_js::Buffer::new();
        out.extend_from_slice(buf.format_finite(f).as_bytes());
    } else {
        // Unreachable without serde_json's arbitrary_precision feature; the
        // number's own text is the least surprising fallback.
        out.extend_from_slice(n.to_string().as_bytes());
    }
}

pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            // Everything else, '/' and U+007F and U+2028 included, is
            // copied as UTF-8; multi-byte sequences never contain bytes
            // below 0x80, so scanning bytes is safe.
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: &Value) -> String {
        String::from_utf8(canonical_json(v)).unwrap()
    }

    fn float_bits(bits: u64) -> String {
        canon(&Value::from(f64::from_bits(bits)))
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let table: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in table {
            assert_eq!(float_bits(bits), want, "bits {bits:016x}");
        }
    }

    #[test]
    fn non_finite_numbers_cannot_reach_a_value() {
        // The reason canonical_json needs no error type.
        assert!(serde_json::Number::from_f64(f64::NAN).is_none());
        assert!(serde_json::Number::from_f64(f64::INFINITY).is_none());
        assert_eq!(Value::from(f64::NAN), Value::Null);
    }

    #[test]
    fn ecmascript_number_layout() {
        for (f, want) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1e-6, "0.000001"),
            (0.1, "0.1"),
            (4.5, "4.5"),
            (5.0, "5"),
            (-0.0, "0"),
            (1.5e300, "1.5e+300"),
            (-2.5e-10, "-2.5e-10"),
        ] {
            assert_eq!(canon(&json!(f)), want, "{f:e}");
        }
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(canon(&json!(0)), "0");
        assert_eq!(canon(&json!(-1)), "-1");
        assert_eq!(canon(&json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(canon(&json!(u64::MAX)), "18446744073709551615");
        // Beyond 2^53, where strict JCS would round (see the module docs).
        assert_eq!(canon(&json!(9007199254740993u64)), "9007199254740993");
    }

    #[test]
    fn parsed_numbers_canonicalise_like_the_rfc() {
        for (text, want) in [
            ("-0", "0"),
            ("-0.0", "0"),
            ("1E30", "1e+30"),
            ("4.50", "4.5"),
            ("2e-3", "0.002"),
            ("0.000000000000000000000000001", "1e-27"),
            ("333333333.33333329", "333333333.3333333"),
            ("1e21", "1e+21"),
            ("0.0000001", "1e-7"),
            ("1e-6", "0.000001"),
            ("295147905179352825856", "295147905179352830000"),
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(canon(&v), want, "{text}");
        }
    }

    #[test]
    fn canonical_text_is_a_fixed_point() {
        // serde_json must parse floats exactly (float_roundtrip) for a
        // verifier that re-canonicalises stored events to get the same bytes.
        for bits in [
            0x3eb0c6f7a0b5ed8cu64,
            0x41b3de4355555557,
            0x43143ff3c1cb0959,
            0x0000000000000001,
            0x7fefffffffffffff,
            0x44b52d02c7e14af7,
        ] {
            let once = float_bits(bits);
            let parsed: Value = serde_json::from_str(&once).unwrap();
            assert_eq!(parsed.as_f64().map(f64::to_bits), Some(bits));
            assert_eq!(canon(&parsed), once);
        }
    }

    #[test]
    fn rfc8785_section_3_2_2_sample() {
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50,
                        2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let v: Value = serde_json::from_str(input).unwrap();
        let want = concat!(
            r#"{"literals":[null,true,false],"#,
            r#""numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
            r#""string":"€$\u000f\nA'B\"\\\\\"/"}"#,
        );
        assert_eq!(canon(&v), want);
        // The RFC's UTF-8 bytes for the euro sign, not an escape.
        assert!(canonical_json(&v)
            .windows(3)
            .any(|w| w == [0xe2, 0x82, 0xac]));
    }

    #[test]
    fn a_long_array_written_on_every_core_is_the_same_bytes() {
        for n in [PARALLEL_ITEMS - 1, PARALLEL_ITEMS, PARALLEL_ITEMS * 2 + 3] {
            let items: Vec<Value> = (0..n).map(|i| json!({"b": i, "a": [i, "x"]})).collect();
            let mut one_thread = Vec::new();
            write_items(&items, |item, out| write(item, out, false), &mut one_thread);
            let doc = json!({"assets": items});
            let expected = [b"{\"assets\":[".as_slice(), &one_thread, b"]}"].concat();
            assert_eq!(canonical_json(&doc), expected, "{n} items");
        }
    }

    #[test]
    fn a_document_without_one_member_is_the_document_with_it_removed() {
        let doc =
            json!({"z": 1, "signature": {"value": "x"}, "a": [{"\u{1F600}": 1, "\u{E000}": 2}]});
        let mut without = doc.clone();
        without.as_object_mut().unwrap().remove("signature");
        assert_eq!(
            canonical_json_except(&doc, "signature"),
            canonical_json(&without)
        );
        assert_eq!(canonical_json_except(&json!([1]), "signature"), b"[1]");
    }

    #[test]
    fn a_member_written_beforehand_takes_its_place_in_key_order() {
        let doc = json!({"z": 1, "@a": [2], "b": {"y": 1, "x": 2}, "\u{1F600}": 0, "\u{E000}": 0});
        let raw = canonical_json(&json!([{"k": "v"}, 3]));
        let Value::Object(map) = &doc else {
            unreachable!()
        };
        let mut whole = doc.clone();
        whole["m"] = json!([{"k": "v"}, 3]);
        assert_eq!(canonical_json_with(map, "m", &raw), canonical_json(&whole));
        // A member of the same name gives way to the one written beforehand.
        assert_eq!(canonical_json_with(map, "z", b"7"), {
            let mut replaced = doc.clone();
            replaced["z"] = json!(7);
            canonical_json(&replaced)
        });
    }

    #[test]
    fn rfc8785_section_3_2_3_key_order() {
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let v: Value = serde_json::from_str(input).unwrap();
        let want = concat!(
            "{\"\\r\":\"Carriage Return\",",
            "\"1\":\"One\",",
            "\"\u{80}\":\"Control\",",
            "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",",
            "\"\u{20ac}\":\"Euro Sign\",",
            "\"\u{1f600}\":\"Emoji: Grinning Face\",",
            "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
        );
        assert_eq!(canon(&v), want);
    }

    #[test]
    fn utf16_order_differs_from_utf8_order() {
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33
        // in UTF-16 but after it in UTF-8.
        let v = json!({"\u{fb33}": 1, "\u{1f600}": 2, "a": 3, "\u{e4}": 4, "Z": 5});
        assert_eq!(
            canon(&v),
            "{\"Z\":5,\"a\":3,\"\u{e4}\":4,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn nested_objects_are_sorted_without_whitespace() {
        let v =
            json!({"b": [1, {"z": null, "y": [true, false]}], "a": {"d": "x", "c": {}}, "e": []});
        assert_eq!(
            canon(&v),
            r#"{"a":{"c":{},"d":"x"},"b":[1,{"y":[true,false],"z":null}],"e":[]}"#
        );
    }

    #[test]
    fn string_escapes() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        let want = concat!(
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007"#,
            r#"\b\t\n\u000b\f\r\u000e\u000f"#,
            r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017"#,
            r#"\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#,
        );
        assert_eq!(canon(&json!(all_controls)), want);
        assert_eq!(canon(&json!("a\"b\\c/d")), r#""a\"b\\c/d""#);
        // Literal UTF-8 for DEL, line separator, non-BMP and non-ASCII.
        assert_eq!(
            canon(&json!("\u{7f}\u{2028}\u{1f600}é")),
            "\"\u{7f}\u{2028}\u{1f600}é\""
        );
        assert_eq!(canon(&json!("")), r#""""#);
    }

    #[test]
    fn into_appends() {
        let mut buf = b"prefix:".to_vec();
        canonical_json_into(&json!({"k": [1, 2]}), &mut buf);
        assert_eq!(buf, br#"prefix:{"k":[1,2]}"#);
    }
}
