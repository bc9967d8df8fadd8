//! Generated media: real PNG images (uncompressed deflate, so no codec is needed), a small
//! JPEG, WebP and GIF for scripted answers, and deterministic embedding vectors.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The side of an image when the request names no size.
pub(crate) const DEFAULT_IMAGE_SIDE: u32 = 64;
/// Larger requests are answered with this side, to keep the mock cheap.
pub(crate) const MAX_IMAGE_SIDE: u32 = 256;
/// The length of an embedding when the request names none.
pub(crate) const DEFAULT_DIMENSIONS: usize = 8;

/// The default-size image, built once.
pub(crate) fn default_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| png(DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE))
}

/// The default-size image in base64, built once.
pub(crate) fn default_png_base64() -> &'static str {
    static ENCODED: OnceLock<String> = OnceLock::new();
    ENCODED.get_or_init(|| BASE64.encode(default_png()))
}

/// A PNG of about this size (each side clamped to 1..=[`MAX_IMAGE_SIDE`]), cached when it is
/// the default size.
pub(crate) fn png_of_size(width: Option<u64>, height: Option<u64>) -> Vec<u8> {
    let side = |asked: Option<u64>| {
        asked.map_or(DEFAULT_IMAGE_SIDE, |asked| {
            u32::try_from(asked.clamp(1, u64::from(MAX_IMAGE_SIDE))).unwrap_or(MAX_IMAGE_SIDE)
        })
    };
    let (width, height) = (side(width), side(height));
    if (width, height) == (DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE) {
        default_png().to_vec()
    } else {
        png(width, height)
    }
}

/// A 2×2 JPEG (Chromium's canvas encoder), in base64.
const JPEG_BASE64: &str = concat!(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AAB",
    "AAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFla",
    "AAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAA",
    "AChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1",
    "AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBh",
    "cmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAc",
    "AEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9",
    "PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2Nj",
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAA",
    "AAAAAAAAAAAAAAAAAAT/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABAb/xAAUEQEA",
    "AAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCIAFUP/9k=",
);

/// A 1×1 lossless WebP, in base64.
const WEBP_BASE64: &str = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==";

/// A 1×1 GIF.
pub(crate) const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

pub(crate) fn jpeg() -> Vec<u8> {
    BASE64.decode(JPEG_BASE64).unwrap_or_default()
}

pub(crate) fn webp() -> Vec<u8> {
    BASE64.decode(WEBP_BASE64).unwrap_or_default()
}

/// OpenAI's `size` (`"1024x1536"`, `"auto"`): width and height, when it names them.
pub(crate) fn parse_size(size: Option<&str>) -> (Option<u64>, Option<u64>) {
    let Some((width, height)) = size.and_then(|size| size.split_once('x')) else {
        return (None, None);
    };
    (width.trim().parse().ok(), height.trim().parse().ok())
}

/// An 8-bit RGB PNG with a colour gradient.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let row = 1 + 3 * width as usize;
    let mut raw = Vec::with_capacity(row * height as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.push(scale(x, width));
            raw.push(scale(y, height));
            raw.push(0x80);
        }
    }
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, RGB, deflate, no filter, no interlace
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 65_535 * 5 + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn scale(position: u32, size: u32) -> u8 {
    u8::try_from(u64::from(position) * 255 / u64::from(size.max(2) - 1)).unwrap_or(u8::MAX)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks (RFC 1950, RFC 1951 §3.2.4).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65_535 * 5 + 11);
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let length = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&(!length).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5_552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc = CRC_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc ^ 0xffff_ffff
}

/// A unit-length vector that depends only on `text` and `dimensions`: equal inputs give equal
/// vectors, different inputs (almost surely) different ones.
pub(crate) fn embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut state = fnv1a(text.as_bytes());
    let mut vector: Vec<f32> = (0..dimensions.max(1))
        .map(|_| {
            state = splitmix64(state);
            // The top 24 bits as a fraction in [0, 1), then moved to [-1, 1).
            (state >> 40) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect();
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// A vector as OpenAI's `encoding_format: "base64"`: little-endian `f32`s, base64.
pub(crate) fn embedding_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    BASE64.encode(bytes)
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn png_layout() {
        let image = png(3, 2);
        assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&image[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(image[16..20].try_into().unwrap()), 3);
        assert_eq!(u32::from_be_bytes(image[20..24].try_into().unwrap()), 2);
        assert!(image.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn other_formats_are_whole() {
        let jpeg = jpeg();
        assert!(jpeg.starts_with(b"\xFF\xD8\xFF") && jpeg.ends_with(b"\xFF\xD9"));
        let webp = webp();
        assert_eq!(&webp[..4], b"RIFF");
        assert_eq!(&webp[8..12], b"WEBP");
        assert_eq!(
            u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize,
            webp.len() - 8
        );
        assert!(GIF.starts_with(b"GIF89a") && GIF.ends_with(b";"));
    }

    #[test]
    fn sizes_are_clamped_and_parsed() {
        assert_eq!(parse_size(Some("1024x1536")), (Some(1024), Some(1536)));
        assert_eq!(parse_size(Some("auto")), (None, None));
        let image = png_of_size(Some(4096), None);
        assert_eq!(
            u32::from_be_bytes(image[16..20].try_into().unwrap()),
            MAX_IMAGE_SIDE
        );
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding("hello", 16);
        assert_eq!(a, embedding("hello", 16));
        assert_ne!(a, embedding("hello!", 16));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}
