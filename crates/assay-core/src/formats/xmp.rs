//! Reading XMP packets, from sidecars and from inside files. The RDF/XML is
//! walked with quick-xml in every form writers use: properties as
//! attributes of `rdf:Description` or as elements, arrays as `rdf:Alt`,
//! `rdf:Seq` or `rdf:Bag`, structures as `rdf:parseType="Resource"`, as
//! nested descriptions or as attributes. Each value is kept with the path
//! of property names that leads to it, so a caller asks for `dc:title` or
//! `plus:Licensor/plus:LicensorName` without caring which form was used.

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

const RDF: &[u8] = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XML: &[u8] = b"http://www.w3.org/XML/1998/namespace";
const META: &[u8] = b"adobe:ns:meta/";

/// The namespace of Assay's own fields; also how a sidecar Assay wrote is
/// recognised.
pub const ASSAY_NS: &str = "https://w3id.org/assay/ns/xmp/1.0/";
pub const DC: &str = "http://purl.org/dc/elements/1.1/";
pub const XMP_RIGHTS: &str = "http://ns.adobe.com/xap/1.0/rights/";
pub const PLUS: &str = "http://ns.useplus.org/ldf/xmp/1.0/";
pub const IPTC_CORE: &str = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";

#[derive(Debug, thiserror::Error)]
pub enum XmpError {
    #[error("empty")]
    Empty,
    #[error("neither UTF-8 nor UTF-16 text")]
    Encoding,
    #[error("malformed XML at byte {at}: {source}")]
    Xml {
        at: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error("reference to the undefined entity &{0};")]
    Entity(String),
    #[error("cut short: {0} element(s) never closed")]
    Truncated(usize),
    #[error("not an XMP packet (no x:xmpmeta or rdf:RDF element)")]
    NotXmp,
    #[error("elements nested deeper than {MAX_DEPTH}; no tool writes such a packet")]
    TooDeep,
    #[error("{0} bytes, more than the {MAX_BYTES} an XMP packet may have here")]
    TooLarge(usize),
}

/// Deeper than any packet a tool writes (a dozen levels is a lot). Each
/// element's property path is as long as its depth, so a packet nested
/// without limit costs time and memory in the square of its size; one
/// nested deeper than this is refused as soon as it is seen.
pub const MAX_DEPTH: usize = 64;
/// Larger than any packet a tool writes (Photoshop's history runs to a few
/// megabytes).
pub const MAX_BYTES: usize = 32 << 20;

/// A property name: namespace URI and local name.
type Name = (String, String);

/// The values of one packet.
#[derive(Debug, Default)]
pub struct Packet {
    values: Vec<Property>,
}

#[derive(Debug)]
struct Property {
    /// Property names from the top-level property down to this value.
    path: Vec<Name>,
    /// `xml:lang` in scope, for language alternatives.
    lang: Option<String>,
    text: String,
}

impl Packet {
    /// A simple value, or the `x-default` (else the first) entry of a
    /// language alternative.
    pub fn text(&self, path: &[(&str, &str)]) -> Option<&str> {
        let at = || self.values.iter().filter(|v| v.is_at(path));
        at().find(|v| v.lang.as_deref() == Some("x-default"))
            .or_else(|| at().next())
            .map(|v| v.text.as_str())
    }

    /// The entries of an array (a simple value is one entry), in order.
    pub fn items(&self, path: &[(&str, &str)]) -> Vec<&str> {
        self.values
            .iter()
            .filter(|v| v.is_at(path))
            .map(|v| v.text.as_str())
            .collect()
    }

    /// Whether any value lies under a property of namespace `ns`.
    pub fn uses(&self, ns: &str) -> bool {
        self.values
            .iter()
            .any(|v| v.path.iter().any(|(uri, _)| uri == ns))
    }
}

impl Property {
    /// Names match regardless of case: old writers put `dc:Creator` for
    /// `dc:creator` into real DNGs, and exiftool reads it so too.
    fn is_at(&self, path: &[(&str, &str)]) -> bool {
        self.path.len() == path.len()
            && self
                .path
                .iter()
                .zip(path)
                .all(|((ns, name), (want_ns, want))| {
                    ns == want_ns && name.eq_ignore_ascii_case(want)
                })
    }
}

/// One open element.
struct Frame {
    /// The property this element is; `None` for RDF syntax and wrappers.
    property: Option<Name>,
    /// Whether this element's text is a value: a property element or an
    /// `rdf:li`/`rdf:value`, with no child element or value attribute.
    holds_text: bool,
    in_rdf: bool,
    lang: Option<String>,
    text: String,
}

/// Parses a packet: a sidecar file's bytes or a packet embedded in a file.
pub fn parse(bytes: &[u8]) -> Result<Packet, XmpError> {
    if bytes.len() > MAX_BYTES {
        return Err(XmpError::TooLarge(bytes.len()));
    }
    let text = decode(bytes)?;
    let mut reader = NsReader::from_str(&text);
    let mut packet = Packet::default();
    let mut open: Vec<Frame> = Vec::new();
    let mut is_xmp = false;
    let xml_error = |reader: &NsReader<&[u8]>, source| XmpError::Xml {
        at: reader.error_position(),
        source,
    };
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (namespace(ns), event),
            Err(source) => return Err(xml_error(&reader, source)),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if open.len() >= MAX_DEPTH {
                    return Err(XmpError::TooDeep);
                }
                let ns = ns.unwrap_or_default();
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                is_xmp |= (ns == RDF && local == "RDF") || (ns == META && local == "xmpmeta");
                let frame = open_element(&reader, &mut open, &mut packet, ns, local, e)
                    .map_err(|source| xml_error(&reader, source))?;
                open.push(frame);
                if matches!(event, Event::Empty(_)) {
                    close(&mut open, &mut packet);
                }
            }
            Event::End(_) => close(&mut open, &mut packet),
            Event::Text(t) => {
                if let Some(top) = open.last_mut().filter(|f| f.holds_text) {
                    let t = t
                        .xml10_content()
                        .map_err(|e| xml_error(&reader, e.into()))?;
                    top.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(top) = open.last_mut().filter(|f| f.holds_text) {
                    let t = t.decode().map_err(|e| xml_error(&reader, e.into()))?;
                    top.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| xml_error(&reader, e.into()))?;
                let mut buf = [0; 4];
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.encode_utf8(&mut buf),
                    Ok(None) => resolve_xml_entity(&name)
                        .ok_or_else(|| XmpError::Entity(name.clone().into_owned()))?,
                    Err(e) => return Err(xml_error(&reader, e)),
                };
                if let Some(top) = open.last_mut().filter(|f| f.holds_text) {
                    top.text.push_str(resolved);
                }
            }
            Event::Eof => break,
            _ => {} // declarations, processing instructions, comments
        }
    }
    if !open.is_empty() {
        return Err(XmpError::Truncated(open.len()));
    }
    if !is_xmp {
        return Err(XmpError::NotXmp);
    }
    Ok(packet)
}

/// Classifies a new element and records the values its attributes carry.
fn open_element(
    reader: &NsReader<&[u8]>,
    open: &mut [Frame],
    packet: &mut Packet,
    ns: Vec<u8>,
    local: String,
    e: &BytesStart,
) -> Result<Frame, quick_xml::Error> {
    let parent = open.last_mut();
    let in_rdf = parent.as_ref().is_some_and(|p| p.in_rdf);
    let mut lang = parent.as_ref().and_then(|p| p.lang.clone());
    if let Some(parent) = parent {
        parent.holds_text = false;
    }
    let is_rdf = ns == RDF;
    let mut frame = Frame {
        property: None,
        holds_text: false,
        in_rdf: in_rdf || (is_rdf && local == "RDF"),
        lang: None,
        text: String::new(),
    };
    if !in_rdf {
        frame.lang = lang;
        return Ok(frame);
    }
    if !is_rdf {
        frame.property = Some((String::from_utf8_lossy(&ns).into_owned(), local.clone()));
    }
    frame.holds_text = !is_rdf || local == "li" || local == "value";
    let mut path: Vec<Name> = open.iter().filter_map(|f| f.property.clone()).collect();
    path.extend(frame.property.clone());
    for attr in e.attributes() {
        let attr = attr.map_err(quick_xml::Error::from)?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (attr_ns, attr_local) = reader.resolver().resolve_attribute(attr.key);
        let attr_ns = namespace(attr_ns).unwrap_or_default();
        let attr_local = String::from_utf8_lossy(attr_local.as_ref()).into_owned();
        let value = attr.normalized_value(XmlVersion::Implicit1_0)?.into_owned();
        if attr_ns == XML {
            if attr_local == "lang" {
                lang = Some(value);
            }
        } else if attr_ns == RDF {
            // A value that is a URI: `<plus:DataMining rdf:resource="..."/>`.
            if attr_local == "resource" && frame.holds_text {
                frame.holds_text = false;
                packet.values.push(Property {
                    path: path.clone(),
                    lang: lang.clone(),
                    text: value,
                });
            }
        } else if !path.is_empty() || local == "Description" {
            // A property in attribute form, or a structure's field.
            frame.holds_text = false;
            let mut field = path.clone();
            field.push((String::from_utf8_lossy(&attr_ns).into_owned(), attr_local));
            packet.values.push(Property {
                path: field,
                lang: lang.clone(),
                text: value,
            });
        }
    }
    frame.lang = lang;
    Ok(frame)
}

/// Closes the innermost element, keeping its text if it is a value.
fn close(open: &mut Vec<Frame>, packet: &mut Packet) {
    let Some(frame) = open.pop() else { return };
    if !frame.holds_text {
        return;
    }
    let mut path: Vec<Name> = open.iter().filter_map(|f| f.property.clone()).collect();
    path.extend(frame.property);
    if !path.is_empty() {
        packet.values.push(Property {
            path,
            lang: frame.lang,
            text: frame.text,
        });
    }
}

fn namespace(resolved: ResolveResult) -> Option<Vec<u8>> {
    match resolved {
        ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
        _ => None,
    }
}

/// The packet as text. XMP is UTF-8 or UTF-16 (the XMP spec allows UTF-32
/// too, which nothing writes); packets embedded in files are often padded
/// with NULs.
fn decode(bytes: &[u8]) -> Result<String, XmpError> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|p| unit([p[0], p[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| XmpError::Encoding)
    };
    let text = match bytes {
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes)?,
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes)?,
        [0, b'<', ..] => utf16(bytes, u16::from_be_bytes)?,
        [b'<', 0, ..] => utf16(bytes, u16::from_le_bytes)?,
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest)?,
        _ => utf8(bytes)?,
    };
    let text = text.trim_end_matches('\0');
    if text.trim().is_empty() {
        return Err(XmpError::Empty);
    }
    Ok(text.to_owned())
}

fn utf8(bytes: &[u8]) -> Result<String, XmpError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| XmpError::Encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSAY: &str = ASSAY_NS;

    #[test]
    fn element_and_attribute_forms_read_the_same() {
        let elements = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">
  <dc:title><rdf:Alt><rdf:li xml:lang="de">Hafen</rdf:li><rdf:li xml:lang="x-default">Harbour &amp; <![CDATA[<dusk>]]>&#x21;</rdf:li></rdf:Alt></dc:title>
  <dc:creator><rdf:Seq><rdf:li>Ann</rdf:li><rdf:li>Bo</rdf:li></rdf:Seq></dc:creator>
  <plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"/>
  <plus:Licensor><rdf:Seq><rdf:li rdf:parseType="Resource"><plus:LicensorName>Acme</plus:LicensorName></rdf:li></rdf:Seq></plus:Licensor>
 </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;
        let attributes = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">
 <rdf:Description plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED">
  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour &amp; &lt;dusk>!</rdf:li></rdf:Alt></dc:title>
  <dc:Creator><rdf:Bag><rdf:li>Ann</rdf:li><rdf:li>Bo</rdf:li></rdf:Bag></dc:Creator>
  <plus:Licensor><rdf:Seq><rdf:li><rdf:Description plus:LicensorName="Acme"/></rdf:li></rdf:Seq></plus:Licensor>
 </rdf:Description></rdf:RDF>"#;
        for text in [elements, attributes] {
            let p = parse(text.as_bytes()).unwrap();
            assert_eq!(p.text(&[(DC, "title")]), Some("Harbour & <dusk>!"));
            assert_eq!(p.items(&[(DC, "creator")]), ["Ann", "Bo"]);
            assert_eq!(
                p.text(&[(PLUS, "DataMining")]),
                Some("http://ns.useplus.org/ldf/vocab/DMI-ALLOWED")
            );
            assert_eq!(
                p.text(&[(PLUS, "Licensor"), (PLUS, "LicensorName")]),
                Some("Acme")
            );
            assert_eq!(p.text(&[(DC, "rights")]), None);
        }
    }

    #[test]
    fn prefixes_do_not_matter_and_utf16_is_read() {
        let text = format!(
            "<x:xmpmeta xmlns:x='adobe:ns:meta/'><r:RDF xmlns:r='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
             <r:Description xmlns:a='{ASSAY}' a:LicenseTag='NO-TRAIN'/></r:RDF></x:xmpmeta>"
        );
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for bytes in [text.as_bytes(), &be, &le] {
            let p = parse(bytes).unwrap();
            assert_eq!(p.text(&[(ASSAY, "LicenseTag")]), Some("NO-TRAIN"));
        }
    }

    /// What a hostile packet would need: nesting and size without end. A
    /// packet nested 100,000 deep is refused at the 65th level, and one of
    /// 33 MB before a byte is decoded; the deepest real packets still parse.
    #[test]
    fn pathological_nesting_and_size_are_refused() {
        let deep = |levels: usize| {
            let mut s = String::from(
                r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">"#,
            );
            s.push_str(&"<dc:a>".repeat(levels));
            s.push('x');
            s.push_str(&"</dc:a>".repeat(levels));
            s.push_str("</rdf:Description></rdf:RDF></x:xmpmeta>");
            s
        };
        assert!(matches!(
            parse(deep(100_000).as_bytes()),
            Err(XmpError::TooDeep)
        ));
        let path: Vec<(&str, &str)> = (0..MAX_DEPTH - 4).map(|_| (DC, "a")).collect();
        let packet = parse(deep(MAX_DEPTH - 4).as_bytes()).unwrap();
        assert_eq!(packet.text(&path), Some("x"));
        let huge = vec![b' '; MAX_BYTES + 1];
        assert!(matches!(parse(&huge), Err(XmpError::TooLarge(n)) if n == MAX_BYTES + 1));
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "empty"),
            (b"\0\0\0", "empty"),
            (b"\xFF\xD8\xFF\xE0 binary \x80\x81", "UTF-8"),
            (b"just some text", "not an XMP packet"),
            (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF", "malformed"),
            (
                b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><a><b></a></x:xmpmeta>",
                "malformed",
            ),
            (
                b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><x:y>&bomb;</x:y></x:xmpmeta>",
                "&bomb;",
            ),
        ];
        for (bytes, expected) in cases {
            let error = parse(bytes).unwrap_err().to_string();
            assert!(error.contains(expected), "{bytes:?}: {error}");
        }
        let truncated = parse(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><x:y>");
        assert!(
            matches!(truncated, Err(XmpError::Truncated(2))),
            "{truncated:?}"
        );
    }
}
