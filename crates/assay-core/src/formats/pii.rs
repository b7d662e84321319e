//! A scan of text datasets (CSV, TSV, JSONL, plain text) for personal data:
//! e-mail addresses, phone numbers, payment card numbers that pass the Luhn
//! check, and IBANs that pass their mod-97 check. Fed chunk by chunk while
//! the file is hashed, like the row counter, so it costs no second read.
//! It counts hits per kind; it never stores what it found.

use std::collections::BTreeMap;

/// Lines longer than this are scanned in pieces (a match across the cut is missed).
const MAX_LINE: usize = 1 << 16;

#[derive(Debug, Default)]
pub struct PiiScanner {
    line: Vec<u8>,
    counts: BTreeMap<String, u64>,
}

impl PiiScanner {
    pub fn for_media_type(media_type: &str) -> Option<Self> {
        matches!(
            media_type,
            "text/csv" | "text/tab-separated-values" | "application/jsonl" | "text/plain"
        )
        .then(PiiScanner::default)
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            self.flush();
            rest = &rest[end + 1..];
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_LINE {
            self.flush();
        }
    }

    /// Hits per kind (`email`, `phone`, `card`, `iban`); empty when none.
    pub fn finish(mut self) -> BTreeMap<String, u64> {
        self.flush();
        self.counts
    }

    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        for kind in scan(&line) {
            *self.counts.entry(kind.to_owned()).or_insert(0) += 1;
        }
        self.line = line;
        self.line.clear();
    }
}

/// The kinds of every hit in one line.
fn scan(line: &[u8]) -> Vec<&'static str> {
    let mut hits = Vec::new();
    hits.extend(
        line.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'@')
            .filter_map(|(i, _)| is_email(line, i).then_some("email")),
    );
    // An IBAN's digit groups would read as a phone number: mask IBANs first.
    let mut masked = line.to_vec();
    for (start, end) in ibans(line) {
        hits.push("iban");
        masked[start..end].fill(b'x');
    }
    hits.extend(numbers(&masked));
    hits
}

fn is_email(line: &[u8], at: usize) -> bool {
    let local = |b: &u8| b.is_ascii_alphanumeric() || b"._%+-".contains(b);
    let domain_byte = |b: &u8| b.is_ascii_alphanumeric() || b".-".contains(b);
    let left = line[..at].iter().rev().take_while(|b| local(b)).count();
    let domain: &[u8] = {
        let right = &line[at + 1..];
        let n = right.iter().take_while(|b| domain_byte(b)).count();
        let d = &right[..n];
        let trimmed = d.len() - d.iter().rev().take_while(|&&b| b == b'.').count();
        &d[..trimmed]
    };
    let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tld = &domain[dot + 1..];
    left > 0 && dot > 0 && tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic)
}

/// Card numbers (13-19 digits, Luhn) and phone numbers (9-15 digits written
/// with a leading + or at least two separators) in runs of digits and
/// separators.
fn numbers(line: &[u8]) -> Vec<&'static str> {
    let in_run = |b: u8| b.is_ascii_digit() || b" -().+".contains(&b);
    let mut hits = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !(line[i].is_ascii_digit() || line[i] == b'+' || line[i] == b'(') {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && in_run(line[i]) {
            i += 1;
        }
        let run = &line[start..i];
        let digits: Vec<u8> = run
            .iter()
            .filter(|b| b.is_ascii_digit())
            .map(|b| b - b'0')
            .collect();
        let separators = run.iter().filter(|b| b" -().".contains(b)).count();
        let n = digits.len();
        if (13..=19).contains(&n) && luhn(&digits) {
            hits.push("card");
        } else if (9..=15).contains(&n) && (run.starts_with(b"+") || separators >= 2) {
            hits.push("phone");
        }
    }
    hits
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The spans of IBANs, compact or in groups of four, that pass the mod-97 check.
fn ibans(line: &[u8]) -> Vec<(usize, usize)> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i + 4 <= line.len() {
        let starts = line[i].is_ascii_uppercase()
            && line[i + 1].is_ascii_uppercase()
            && line[i + 2].is_ascii_digit()
            && line[i + 3].is_ascii_digit()
            && (i == 0 || !line[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let mut compact = Vec::new();
        let mut j = i;
        while j < line.len() && compact.len() < 34 {
            let b = line[j];
            if b.is_ascii_uppercase() || b.is_ascii_digit() {
                compact.push(b);
            } else if !(b == b' ' && line.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)) {
                break;
            }
            j += 1;
        }
        if compact.len() >= 15 && mod97(&compact) == 1 {
            hits.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    hits
}

fn mod97(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.iter().chain(head).fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &str) -> Vec<(String, u64)> {
        let mut s = PiiScanner::default();
        // Feed in small pieces so lines cross chunk boundaries.
        for piece in text.as_bytes().chunks(7) {
            s.feed(piece);
        }
        s.finish().into_iter().collect()
    }

    #[test]
    fn finds_each_kind_and_nothing_in_plain_numbers() {
        let csv = "name,email,phone,card,iban\n\
                   Ann,ann.lee@example.org,+1 555 123 4567,4111 1111 1111 1111,GB82 WEST 1234 5698 7654 32\n\
                   Bob,bob@mail.example.co.uk,(555) 987-6543,,DE89370400440532013000\n";
        assert_eq!(
            counts(csv),
            [
                ("card".into(), 1),
                ("email".into(), 2),
                ("iban".into(), 2),
                ("phone".into(), 2)
            ]
        );
        // Ids, amounts, dates, a card number failing Luhn, a bad IBAN check.
        let clean = "id,amount,date,ref\n1234567890,1999.95,2024-05-01,4111111111111112\nx,GB00WEST12345698765432,a@b,@\n";
        assert_eq!(counts(clean), []);
    }
}
