//! What crosses between the records and PostgreSQL: the arguments of a
//! statement ([`Arg`]) and the columns of its rows ([`Column`]), with text
//! encoded on the way in and decoded on the way out.
//!
//! SQLite keeps any string; PostgreSQL's `TEXT` refuses NUL (U+0000), and
//! a client may send one (a listing's title, an asset id in a URL). So
//! that both backends answer alike (the title kept, the asset not found,
//! never a 500), every string goes in through [`text`], which spells NUL as
//! U+0001 U+0001 and U+0001 as U+0001 U+0002, and comes out through
//! [`Column`], which undoes it. Any other string is stored as it is. The
//! encoding keeps what the queries rely on: equal strings stay equal,
//! byte order (`COLLATE "C"`) is kept (the two escapes sort before every
//! other character, as the characters they spell do), and pieces joined
//! by SQL (`string_agg`) decode as the join of their decodings.
//!
//! [`Arg`] is implemented for the types the records pass, but not for
//! `&str` or `String`: a string passed without [`text`] does not compile.

use std::borrow::Cow;

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::corrupt;
use crate::records::Result;

const ESCAPE: char = '\u{1}';

/// One argument of a statement.
pub(super) trait Arg: Sync {
    fn sql(&self) -> &(dyn ToSql + Sync);
}

macro_rules! plain_args {
    ($($t:ty),*) => {
        $(impl Arg for $t {
            fn sql(&self) -> &(dyn ToSql + Sync) {
                self
            }
        })*
    };
}

plain_args!(
    i32,
    i64,
    f64,
    Option<i64>,
    bool,
    Option<bool>,
    Vec<i64>,
    Vec<Option<bool>>,
    Vec<u8>
);

impl Arg for &[i64] {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        self
    }
}

impl Arg for &[u8] {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        self
    }
}

/// A string (or `NULL`) as stored.
pub(super) struct Text<'a>(Option<Cow<'a, str>>);

impl Arg for Text<'_> {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        &self.0
    }
}

/// Strings (or `NULL`s) as stored, for a `text[]` argument.
pub(super) struct Texts<'a>(Vec<Option<Cow<'a, str>>>);

impl Arg for Texts<'_> {
    fn sql(&self) -> &(dyn ToSql + Sync) {
        &self.0
    }
}

/// `s` as stored.
pub(super) fn text(s: &str) -> Text<'_> {
    Text(Some(encode(s)))
}

/// `s` as stored, or `NULL`.
pub(super) fn opt_text(s: Option<&str>) -> Text<'_> {
    Text(s.map(encode))
}

/// Each of `strings` as stored, `None` as `NULL`.
pub(super) fn texts<'a>(strings: impl IntoIterator<Item = Option<&'a str>>) -> Texts<'a> {
    Texts(strings.into_iter().map(|s| s.map(encode)).collect())
}

fn encode(s: &str) -> Cow<'_, str> {
    if !s.contains(['\0', ESCAPE]) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0' => out.extend([ESCAPE, ESCAPE]),
            ESCAPE => out.extend([ESCAPE, '\u{2}']),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn decode(s: &str) -> Result<String> {
    if !s.contains(ESCAPE) {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != ESCAPE {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(ESCAPE) => out.push('\0'),
            Some('\u{2}') => out.push(ESCAPE),
            _ => return Err(corrupt(format!("stored text {s:?} is not as encoded"))),
        }
    }
    Ok(out)
}

/// A column's value, checked against its type; text decoded.
pub(super) trait Column: Sized {
    fn read(row: &Row, index: usize) -> Result<Self>;
}

impl Column for String {
    fn read(row: &Row, index: usize) -> Result<Self> {
        decode(row.try_get::<_, &str>(index)?)
    }
}

impl Column for Option<String> {
    fn read(row: &Row, index: usize) -> Result<Self> {
        row.try_get::<_, Option<&str>>(index)?
            .map(decode)
            .transpose()
    }
}

macro_rules! plain_columns {
    ($($t:ty),*) => {
        $(impl Column for $t {
            fn read(row: &Row, index: usize) -> Result<Self> {
                Ok(row.try_get(index)?)
            }
        })*
    };
}

plain_columns!(
    i64,
    f64,
    Option<i64>,
    bool,
    Option<bool>,
    Vec<u8>,
    Option<Vec<u8>>
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn text_round_trips_and_keeps_its_order() {
        let strings = [
            "", "\0", "\0\0", "\u{1}", "\u{1}\0", "\u{2}", "a", "a\0", "a\0b", "a\u{1}", "ab", "b",
            "é\0ü",
        ];
        for s in strings {
            assert_eq!(decode(&encode(s)).unwrap(), s, "{s:?}");
            assert!(!encode(s).contains('\0'), "{s:?}");
        }
        assert!(matches!(encode("plain"), Cow::Borrowed("plain")));
        for a in strings {
            for b in strings {
                assert_eq!(a.cmp(b), encode(a).cmp(&encode(b)), "{a:?} {b:?}");
            }
        }
        let joined = format!("{}\n{}", encode("x\0"), encode("\u{1}y"));
        assert_eq!(decode(&joined).unwrap(), "x\0\n\u{1}y");
        assert!(decode("\u{1}z").is_err());
    }
}
