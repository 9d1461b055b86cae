//! An on-disk cache of segment embeddings, so that training heads (`texcnn fit`) embeds each
//! sequence once per encoder and segment plan.
//!
//! Layout: `ROOT/<key>/<sequence hash>.emb`, where `<key>` is a SHA-256 of everything that
//! changes an embedding except the sequence (the encoder's config and stored weights, the
//! tokenizer, the segment plan) and `<sequence hash>` is a SHA-256 of the residues. One file
//! holds one sequence's segment embeddings:
//!
//! ```text
//! b"TXEMB1\0\0" | segments: u32 LE | width: u32 LE | segments × width f32 LE
//! ```
//!
//! Files are written to a temporary name and renamed, so an interrupted run leaves no
//! half-written entry; a file that does not parse is treated as missing (and overwritten).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"TXEMB1\0\0";

/// The segment embeddings of one sequence: `segments` rows of `width` values.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEmbeddings {
    pub segments: usize,
    pub width: usize,
    pub values: Vec<f32>,
}

impl SegmentEmbeddings {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16 + self.values.len() * 4);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(self.segments as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.width as u32).to_le_bytes());
        for v in &self.values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let word = |at: usize| -> Option<usize> {
            Some(u32::from_le_bytes(rest.get(at..at + 4)?.try_into().ok()?) as usize)
        };
        let (segments, width) = (word(0)?, word(4)?);
        let body = &rest[8..];
        if segments == 0 || width == 0 || body.len() != segments.checked_mul(width)? * 4 {
            return None;
        }
        let values: Vec<f32> = body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        values.iter().all(|v| v.is_finite()).then_some(Self {
            segments,
            width,
            values,
        })
    }
}

/// Why the cache cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("embedding cache {path}: {source}")]
pub struct CacheError {
    pub path: String,
    pub source: std::io::Error,
}

/// The cache of one encoder and segment plan.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
}

/// Hex SHA-256 of `parts`, each length-prefixed so that no two lists of parts collide.
pub fn key_of<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl EmbeddingCache {
    /// Opens (creating it if needed) the cache for `key` under `root`.
    pub fn open(root: &Path, key: &str) -> Result<Self, CacheError> {
        let dir = root.join(key);
        std::fs::create_dir_all(&dir).map_err(|source| CacheError {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// Folder of this key's entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, residues: &str) -> PathBuf {
        self.dir
            .join(format!("{}.emb", &key_of([residues.as_bytes()])[..32]))
    }

    /// The cached embeddings of `residues`, if present and intact.
    pub fn get(&self, residues: &str) -> Option<SegmentEmbeddings> {
        SegmentEmbeddings::from_bytes(&std::fs::read(self.path(residues)).ok()?)
    }

    /// Stores the embeddings of `residues` (atomically: temporary file, then rename).
    pub fn put(&self, residues: &str, value: &SegmentEmbeddings) -> Result<(), CacheError> {
        let path = self.path(residues);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let err = |source| CacheError {
            path: path.display().to_string(),
            source,
        };
        std::fs::write(&tmp, value.to_bytes()).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("texcnn-embcache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn sample() -> SegmentEmbeddings {
        SegmentEmbeddings {
            segments: 2,
            width: 3,
            values: vec![1.0, -2.5, 0.0, 3.25, 1e-7, -1e7],
        }
    }

    #[test]
    fn round_trips_and_misses_other_sequences() {
        let root = temp_root("roundtrip");
        let cache = EmbeddingCache::open(&root, "k").unwrap();
        assert_eq!(cache.get("ACGT"), None);
        cache.put("ACGT", &sample()).unwrap();
        assert_eq!(cache.get("ACGT"), Some(sample()));
        assert_eq!(cache.get("ACGA"), None);
        // Another key (another encoder or plan) does not see the entry.
        let other = EmbeddingCache::open(&root, "k2").unwrap();
        assert_eq!(other.get("ACGT"), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn damaged_entries_read_as_missing() {
        let root = temp_root("damaged");
        let cache = EmbeddingCache::open(&root, "k").unwrap();
        cache.put("ACGT", &sample()).unwrap();
        let path = cache.path("ACGT");
        let good = std::fs::read(&path).unwrap();
        // Truncated body, wrong magic, zero width, a NaN value.
        let mut nan = good.clone();
        nan[16..20].copy_from_slice(&f32::NAN.to_le_bytes());
        let mut zero_width = good.clone();
        zero_width[12..16].copy_from_slice(&0u32.to_le_bytes());
        for bad in [
            good[..good.len() - 1].to_vec(),
            [b"XXEMB1\0\0".as_slice(), &good[8..]].concat(),
            zero_width,
            nan,
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(cache.get("ACGT"), None);
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn keys_separate_their_parts() {
        // Length prefixes: ("AB","C") and ("A","BC") must not share a key.
        assert_ne!(
            key_of([b"AB".as_slice(), b"C"]),
            key_of([b"A".as_slice(), b"BC"])
        );
        // SHA-256 of the 8-byte little-endian length 3, then "abc", by Python's hashlib:
        // hashlib.sha256(struct.pack('<Q', 3) + b'abc').hexdigest()
        assert_eq!(
            key_of([b"abc".as_slice()]),
            "ce91dc5eec0139adf091900d225971d6ad246a845bad791b5693a9d0d55dd391"
        );
    }
}
