//! The outer framing of a bundle file: magic, format version, lengths, manifest, payload and
//! a SHA-256 trailer. Nothing here knows what the manifest says; see [`super`] for that and
//! `FORMAT.md` for the byte layout.

use sha2::{Digest, Sha256};

use super::BundleError;

/// The first eight bytes of every bundle.
pub const MAGIC: [u8; 8] = *b"TXCNNBDL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the manifest: magic (8), version (4), total length (8), manifest length (8).
pub const HEADER_LEN: usize = 28;
/// Bytes of the SHA-256 trailer.
pub const CHECKSUM_LEN: usize = 32;

/// The two variable parts of a checked container.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// UTF-8 JSON manifest.
    pub manifest: &'a [u8],
    /// Every section's bytes, addressed by offsets relative to its start.
    pub payload: &'a [u8],
}

/// Frames a manifest and a payload into one file.
pub fn write(manifest: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = HEADER_LEN + manifest.len() + payload.len() + CHECKSUM_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(total as u64).to_le_bytes());
    out.extend_from_slice(&(manifest.len() as u64).to_le_bytes());
    out.extend_from_slice(manifest);
    out.extend_from_slice(payload);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// Checks the framing, in the order that gives the most useful error: magic, version,
/// length (truncation or trailing bytes), checksum, then the manifest length.
pub fn read(bytes: &[u8]) -> Result<Parts<'_>, BundleError> {
    let prefix = &bytes[..bytes.len().min(MAGIC.len())];
    if prefix != &MAGIC[..prefix.len()] {
        return Err(BundleError::BadMagic { found: hex(prefix) });
    }
    // The version and the total length are read as soon as they are there, so that a cut
    // file reports the length it should have.
    let short = |expected: u64| BundleError::Truncated {
        expected,
        found: bytes.len() as u64,
    };
    let minimum = (HEADER_LEN + CHECKSUM_LEN) as u64;
    if bytes.len() < 12 {
        return Err(short(minimum));
    }
    let version = u32_at(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if bytes.len() < 20 {
        return Err(short(minimum));
    }
    let total = u64_at(bytes, 12);
    let found = bytes.len() as u64;
    if found < total {
        return Err(short(total));
    }
    if found > total {
        return Err(BundleError::TrailingBytes {
            expected: total,
            found,
        });
    }
    if total < minimum {
        return Err(BundleError::Malformed(format!(
            "the header announces {total} bytes, less than the {minimum} of an empty bundle"
        )));
    }
    let body_end = bytes.len() - CHECKSUM_LEN;
    let stored = &bytes[body_end..];
    let computed = Sha256::digest(&bytes[..body_end]);
    if stored != computed.as_slice() {
        return Err(BundleError::ChecksumMismatch {
            stored: hex(stored),
            computed: hex(&computed),
        });
    }
    let manifest_len = u64_at(bytes, 20);
    let room = (body_end - HEADER_LEN) as u64;
    if manifest_len > room {
        return Err(BundleError::Malformed(format!(
            "the manifest length {manifest_len} exceeds the {room} bytes between header and checksum"
        )));
    }
    // Bounded by `room`, which is a usize.
    let manifest_end = HEADER_LEN + manifest_len as usize;
    Ok(Parts {
        manifest: &bytes[HEADER_LEN..manifest_end],
        payload: &bytes[manifest_end..body_end],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = write(b"{}", b"payload");
        let parts = read(&bytes).expect("reads back");
        assert_eq!(parts.manifest, b"{}");
        assert_eq!(parts.payload, b"payload");
    }

    #[test]
    fn every_prefix_is_truncated() {
        let bytes = write(b"{\"a\":1}", b"0123456789");
        for len in 0..bytes.len() {
            let err = read(&bytes[..len]).expect_err("a prefix is not a bundle");
            let expected = if len < 20 { 60 } else { bytes.len() as u64 };
            assert!(
                matches!(err, BundleError::Truncated { expected: e, found } if e == expected && found == len as u64),
                "{len}: {err}"
            );
        }
    }
}
