//! File names safe to create on any operating system: what a manifest may
//! name a file, so a buyer's folder on Windows, macOS or Linux holds
//! exactly the files it lists, each under its own name.

/// Names Windows gives to devices, whatever the extension or case.
const DEVICES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Characters no portable file name holds: path separators, a drive or
/// stream separator, and the rest Windows refuses.
const FORBIDDEN: [char; 9] = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// Why `name` cannot be created as one file on every OS, if it cannot: a
/// path, a device, a character some OS refuses, a trailing dot or space
/// (Windows drops them), hidden, or over 255 bytes.
pub fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("a file name is 1 to 255 bytes");
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return Some("a file name may not start with a dot");
    }
    if name
        .chars()
        .any(|c| FORBIDDEN.contains(&c) || c.is_control())
    {
        return Some("a file name holds none of / \\ : * ? \" < > | nor control characters");
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("a file name may not end with a dot or a space");
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Some("a file name may not be a Windows device name (CON, NUL, COM1, LPT1, ...)");
    }
    None
}

/// A plain name, safe wherever Assay puts it (in file names, URLs, shell
/// arguments): 1 to 64 ASCII letters, digits, '-', '_' or '.', not
/// starting with '.'.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// `a.cr2` → `a.c2pa`: the name of a file's C2PA sidecar, where C2PA readers
/// (c2patool among them) look for it.
pub fn c2pa_sidecar(file_name: &str) -> String {
    std::path::Path::new(file_name)
        .with_extension("c2pa")
        .to_string_lossy()
        .into_owned()
}

/// What two names that one case-insensitive file system would take for the
/// same file have in common.
pub fn collision_key(name: &str) -> String {
    name.to_lowercase()
}

/// `name` made safe to create on every OS: forbidden characters become
/// `_`, a leading dot, a trailing dot or space and a device name are
/// guarded with `_`, and an overlong name is shortened (keeping its
/// extension). Names already safe are unchanged.
pub fn portable_file_name(name: &str) -> String {
    if file_name_problem(name).is_none() {
        return name.to_owned();
    }
    let mut safe: String = name
        .chars()
        .map(|c| {
            if FORBIDDEN.contains(&c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if safe.ends_with('.') || safe.ends_with(' ') {
        safe.pop();
        safe.push('_');
    }
    if safe.is_empty() || safe.starts_with('.') || file_name_problem(&safe).is_some() {
        safe.insert(0, '_');
    }
    if safe.len() > 255 {
        let ext = safe
            .rfind('.')
            .map(|i| safe[i..].to_owned())
            .filter(|e| e.len() <= 16);
        let ext = ext.unwrap_or_default();
        let mut cut = 255 - ext.len();
        while !safe.is_char_boundary(cut) {
            cut -= 1;
        }
        safe = format!("{}{ext}", &safe[..cut]);
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_os_can_hold_and_the_rest_made_so() {
        for ok in ["a.jpg", "IMG 0001.JPG", "été.png", "CONSOLE.jpg", "a..b"] {
            assert_eq!(file_name_problem(ok), None, "{ok}");
            assert_eq!(portable_file_name(ok), ok);
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "C:evil",
            "x:stream",
            "a?.jpg",
            "tab\there",
            "dot.",
            "space ",
            "CON",
            "con.jpg",
            "Nul.tar.gz",
            "con.txt.bak",
            "COM1.txt",
            "lpt9",
            "aux .jpg",
        ] {
            assert!(file_name_problem(bad).is_some(), "{bad:?}");
            let safe = portable_file_name(bad);
            assert_eq!(file_name_problem(&safe), None, "{bad:?} -> {safe:?}");
        }
        let long = format!("{}.jpeg", "é".repeat(200));
        let safe = portable_file_name(&long);
        assert!(safe.len() <= 255 && safe.ends_with(".jpeg"), "{safe}");
        assert_eq!(collision_key("IMG_1.JPG"), collision_key("img_1.jpg"));
    }
}
