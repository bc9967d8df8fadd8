//! Images AI Pasta keeps and serves: only raster formats a browser never runs as a document
//! (PNG, JPEG, WebP, GIF), told by their bytes, never by the type a provider claimed. HTML, SVG,
//! script or anything unrecognised is refused; [`looks_like`] says what it seemed to be, for
//! the message.

/// A raster image format we keep and serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
    Gif,
}

impl ImageFormat {
    /// The format the bytes' magic number names, or `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(b"\xFF\xD8\xFF") {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::WebP)
        } else {
            None
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::WebP => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
            ImageFormat::Gif => "gif",
        }
    }
}

/// The formats we keep, for messages.
pub const KEPT_FORMATS: &str = "a PNG, JPEG, WebP or GIF";

/// What bytes that are not a kept image look like, as the end of "it …": `looks like HTML`,
/// `looks like SVG`, `looks like JavaScript`, `is empty`, … Only a hint for people: nothing
/// is decided by it.
pub fn looks_like(bytes: &[u8]) -> &'static str {
    if bytes.is_empty() {
        return "is empty";
    }
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.is_empty() {
        return "holds only white space";
    }
    if text.contains("<svg") {
        return "looks like SVG";
    }
    if text.starts_with('<') {
        let html = [
            "<!doctype html",
            "<html",
            "<head",
            "<body",
            "<script",
            "<iframe",
        ];
        return if html.iter().any(|tag| text.contains(tag)) {
            "looks like HTML"
        } else if text.starts_with("<?xml") {
            "looks like XML"
        } else {
            "looks like markup"
        };
    }
    if text.starts_with('{') || text.starts_with('[') {
        return "looks like JSON";
    }
    let printable = head
        .iter()
        .filter(|&&b| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b))
        .count();
    if printable * 10 < head.len() * 9 {
        return "is in a format AI Pasta does not recognise";
    }
    let script = [
        "function",
        "=>",
        "document.",
        "window.",
        "var ",
        "let ",
        "const ",
        "alert(",
        "eval(",
        "import ",
        "fetch(",
    ];
    if script.iter().any(|word| text.contains(word)) {
        "looks like JavaScript"
    } else {
        "looks like text"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_name_the_format() {
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::sniff(b"GIF87a..."), Some(ImageFormat::Gif));
        assert_eq!(ImageFormat::sniff(b"GIF89a..."), Some(ImageFormat::Gif));
        assert_eq!(
            ImageFormat::sniff(b"RIFF\x24\x00\x00\x00WEBPVP8 "),
            Some(ImageFormat::WebP)
        );
        // Near misses and everything else.
        for bytes in [
            &b""[..],
            b"\x89PNG\r\n",
            b"\xFF\xD8",
            b"GIF88a",
            b"RIFF\x24\x00\x00\x00WAVE",
            b"RIFFWEBP",
            b"<html><script>alert(1)</script></html>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
            b"alert(document.cookie)",
            b" \x89PNG\r\n\x1a\n",
        ] {
            assert_eq!(ImageFormat::sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn types_and_extensions() {
        assert_eq!(ImageFormat::Jpeg.mime_type(), "image/jpeg");
        assert_eq!(ImageFormat::Jpeg.extension(), "jpg");
        assert_eq!(ImageFormat::WebP.mime_type(), "image/webp");
        assert_eq!(ImageFormat::Gif.extension(), "gif");
        assert_eq!(ImageFormat::Png.extension(), "png");
    }

    #[test]
    fn refused_bytes_are_described() {
        assert_eq!(looks_like(b""), "is empty");
        assert_eq!(looks_like(b" \n "), "holds only white space");
        assert_eq!(
            looks_like(b"<!DOCTYPE html><html><script>alert(1)</script>"),
            "looks like HTML"
        );
        assert_eq!(looks_like(b"<script>alert(1)</script>"), "looks like HTML");
        assert_eq!(
            looks_like(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><svg onload=\"x()\"></svg>"),
            "looks like SVG"
        );
        assert_eq!(
            looks_like(b"localStorage.setItem('x', 1); document.title = 'x';"),
            "looks like JavaScript"
        );
        assert_eq!(looks_like(br#"{"error": "no"}"#), "looks like JSON");
        assert_eq!(looks_like(b"just words"), "looks like text");
        assert_eq!(
            looks_like(&[0u8, 1, 2, 3, 200, 201, 202, 5, 6, 7]),
            "is in a format AI Pasta does not recognise"
        );
    }
}
