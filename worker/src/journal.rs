//! The durable journal: one file per in-flight job, written atomically and fsynced before the
//! commit it describes is sent, so a restart can always reveal what was committed (losing the
//! salt would mean being slashed) and never commits a different digest. An entry that does not
//! decode (a damaged disk, a hand edit) stops the worker with an error naming the file: revealing
//! a wrong salt would be slashed just the same, and the operator may still recover it.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How far a job has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// The draw gave this node a seat; the output is being computed. On restart it is computed
    /// again (nothing was committed yet).
    Computing,
    /// Output computed and stored (or the input found invalid), salt and digest chosen; the
    /// commit may or may not have landed.
    Committing,
    /// The commit landed.
    Committed,
    /// The reveal landed; waiting for settlement (the output is published only if the job
    /// settles with this node's digest).
    Revealed,
}

/// A journal that cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal entry {path} is corrupt ({reason}); the worker stops rather than reveal a wrong salt. Restore the file from a backup, or move it away to give up that job (its seat will be slashed)")]
    Corrupt { path: PathBuf, reason: String },
    #[error("journal directory {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// What is remembered about one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub job: String,
    pub job_id: u64,
    pub step: Step,
    pub salt: String,
    pub digest: String,
    /// The output, kept privately until the job settles with its digest.
    pub output_file: PathBuf,
}

impl Entry {
    /// The salt; entries are validated when read, so this is a 32-byte value from `Committing`
    /// on (zeros before).
    pub fn salt(&self) -> [u8; 32] {
        decode32(&self.salt).unwrap_or([0; 32])
    }
    pub fn digest(&self) -> [u8; 32] {
        decode32(&self.digest).unwrap_or([0; 32])
    }

    /// Why this entry cannot be trusted, if it cannot.
    fn defect(&self) -> Option<String> {
        if self.step == Step::Computing {
            return None;
        }
        for (what, v) in [("salt", &self.salt), ("digest", &self.digest)] {
            if decode32(v).is_none() {
                return Some(format!("{what} is not 64 hex digits"));
            }
        }
        None
    }
}

fn decode32(h: &str) -> Option<[u8; 32]> {
    hex::decode(h).ok().and_then(|v| v.try_into().ok())
}

/// A directory of entries.
#[derive(Clone, Debug)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn open(dir: &Path) -> std::io::Result<Journal> {
        fs::create_dir_all(dir)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, job: &str) -> PathBuf {
        self.dir.join(format!("{job}.json"))
    }

    /// Writes `entry` durably: temp file, fsync, rename, fsync of the directory.
    pub fn put(&self, entry: &Entry) -> std::io::Result<()> {
        let tmp = self.dir.join(format!(".{}.tmp", entry.job));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(entry).expect("serializable"))?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.path(&entry.job))?;
        File::open(&self.dir)?.sync_all()
    }

    pub fn get(&self, job: &str) -> Option<Entry> {
        serde_json::from_slice(&fs::read(self.path(job)).ok()?).ok()
    }

    /// Every entry; the first that cannot be read or decoded is an error.
    pub fn all(&self) -> Result<Vec<Entry>, JournalError> {
        let io = |source| JournalError::Io {
            dir: self.dir.clone(),
            source,
        };
        let mut out = vec![];
        for e in fs::read_dir(&self.dir).map_err(io)? {
            let p = e.map_err(io)?.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            let corrupt = |reason: String| JournalError::Corrupt {
                path: p.clone(),
                reason,
            };
            let bytes = fs::read(&p).map_err(|e| corrupt(e.to_string()))?;
            let entry: Entry =
                serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
            if let Some(reason) = entry.defect() {
                return Err(corrupt(reason));
            }
            out.push(entry);
        }
        out.sort_by_key(|e| e.job_id);
        Ok(out)
    }

    /// Forgets a finished job.
    pub fn remove(&self, job: &str) -> std::io::Result<()> {
        match fs::remove_file(self.path(job)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Writes `bytes` to `path` and fsyncs it.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_remove() {
        let dir = std::env::temp_dir().join(format!("concord-journal-{}", std::process::id()));
        let j = Journal::open(&dir).unwrap();
        let e = Entry {
            job: "J1".into(),
            job_id: 4,
            step: Step::Committing,
            salt: hex::encode([1u8; 32]),
            digest: hex::encode([2u8; 32]),
            output_file: dir.join("o.bin"),
        };
        j.put(&e).unwrap();
        let mut e2 = e.clone();
        e2.step = Step::Committed;
        j.put(&e2).unwrap();
        assert_eq!(j.all().unwrap(), vec![e2.clone()]);
        assert_eq!(j.get("J1").unwrap().salt(), [1; 32]);
        j.remove("J1").unwrap();
        j.remove("J1").unwrap();
        assert!(j.all().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_entry_is_an_error_that_names_the_file() {
        let dir = std::env::temp_dir().join(format!("concord-journal-bad-{}", std::process::id()));
        let j = Journal::open(&dir).unwrap();
        let good = Entry {
            job: "J2".into(),
            job_id: 5,
            step: Step::Committed,
            salt: hex::encode([1u8; 32]),
            digest: hex::encode([2u8; 32]),
            output_file: dir.join("o.bin"),
        };
        j.put(&good).unwrap();
        // A truncated salt (a damaged write, a hand edit): refused, never revealed as zeros.
        let mut bad = good.clone();
        bad.job = "J3".into();
        bad.salt = "abcd".into();
        fs::write(dir.join("J3.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
        let err = j.all().unwrap_err().to_string();
        assert!(err.contains("J3.json") && err.contains("salt"), "{err}");
        // Not JSON at all.
        fs::write(dir.join("J3.json"), b"{ not json").unwrap();
        let err = j.all().unwrap_err().to_string();
        assert!(err.contains("J3.json") && err.contains("corrupt"), "{err}");
        fs::remove_file(dir.join("J3.json")).unwrap();
        assert_eq!(j.all().unwrap(), vec![good]);
        fs::remove_dir_all(dir).unwrap();
    }
}
