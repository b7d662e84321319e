//! Row counting for tabular and text files, fed chunk by chunk while the file
//! is hashed, so it costs no second read.

/// Counts records: CSV/TSV rows after the header (newlines inside quoted
/// fields do not end a row), JSONL non-blank lines, text lines.
#[derive(Debug)]
pub struct RowCounter {
    kind: Kind,
    in_quotes: bool,
    lines: u64,
    /// Whether the current line has anything but whitespace.
    line_has_content: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Csv,
    Jsonl,
    Text,
}

impl RowCounter {
    pub fn for_media_type(media_type: &str) -> Option<Self> {
        let kind = match media_type {
            "text/csv" | "text/tab-separated-values" => Kind::Csv,
            "application/jsonl" => Kind::Jsonl,
            "text/plain" => Kind::Text,
            _ => return None,
        };
        Some(RowCounter {
            kind,
            in_quotes: false,
            lines: 0,
            line_has_content: false,
        })
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            match b {
                b'"' if self.kind == Kind::Csv => {
                    self.in_quotes = !self.in_quotes;
                    self.line_has_content = true;
                }
                b'\n' if !self.in_quotes => {
                    if self.line_has_content || self.kind == Kind::Text {
                        self.lines += 1;
                    }
                    self.line_has_content = false;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => self.line_has_content = true,
            }
        }
    }

    /// The count, including a last line without a trailing newline.
    pub fn finish(self) -> u64 {
        let lines = self.lines + u64::from(self.line_has_content);
        match self.kind {
            Kind::Csv => lines.saturating_sub(1),
            Kind::Jsonl | Kind::Text => lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(media_type: &str, chunks: &[&[u8]]) -> u64 {
        let mut c = RowCounter::for_media_type(media_type).unwrap();
        for chunk in chunks {
            c.feed(chunk);
        }
        c.finish()
    }

    #[test]
    fn csv_rows_exclude_the_header_and_respect_quotes() {
        assert_eq!(count("text/csv", &[b"a,b\n1,2\n3,4\n"]), 2);
        assert_eq!(count("text/csv", &[b"a,b\n1,2\n3,4"]), 2);
        assert_eq!(count("text/csv", &[b"a,b\n1,\"two\nlines\"\n3,4\n"]), 2);
        // Split across chunks inside the quoted field.
        assert_eq!(
            count("text/csv", &[b"a,b\n1,\"tw", b"o\nlines\"\n3,4\n\n"]),
            2
        );
    }

    #[test]
    fn jsonl_skips_blank_lines_and_text_counts_all() {
        assert_eq!(count("application/jsonl", &[b"{}\n\n{}\r\n  \n{}"]), 3);
        assert_eq!(count("text/plain", &[b"one\n\nthree\n"]), 3);
        assert_eq!(count("text/plain", &[b""]), 0);
    }
}
