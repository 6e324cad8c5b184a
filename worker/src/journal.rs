//! The durable journal: one file per in-flight job, written atomically and fsynced before the
//! commit it describes is sent, so a restart can always reveal what was committed (losing the
//! salt would mean being slashed) and never commits a different digest.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How far a job has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// About to claim (written before the claim is sent): on restart, a slot that landed is
    /// computed and committed; one that did not is forgotten.
    Claiming,
    /// Claimed, output computed and stored, salt and digest chosen; the commit may or may not
    /// have landed.
    Committing,
    /// The commit landed.
    Committed,
    /// The reveal landed; waiting for settlement.
    Revealed,
}

/// What is remembered about one job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub job: String,
    pub job_id: u64,
    pub step: Step,
    pub salt: String,
    pub digest: String,
    /// The output, kept privately until reveal time.
    pub output_file: PathBuf,
}

impl Entry {
    pub fn salt(&self) -> [u8; 32] {
        decode32(&self.salt)
    }
    pub fn digest(&self) -> [u8; 32] {
        decode32(&self.digest)
    }
}

fn decode32(h: &str) -> [u8; 32] {
    hex::decode(h)
        .ok()
        .and_then(|v| v.try_into().ok())
        .unwrap_or([0; 32])
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

    /// Every entry (unreadable files are reported and skipped).
    pub fn all(&self) -> Vec<Entry> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut out = vec![];
        for e in dir.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            match fs::read(&p).map(|b| serde_json::from_slice::<Entry>(&b)) {
                Ok(Ok(entry)) => out.push(entry),
                _ => {
                    tracing::error!(path = %p.display(), "unreadable journal entry; leaving it in place")
                }
            }
        }
        out.sort_by_key(|e| e.job_id);
        out
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
        assert_eq!(j.all(), vec![e2.clone()]);
        assert_eq!(j.get("J1").unwrap().salt(), [1; 32]);
        j.remove("J1").unwrap();
        j.remove("J1").unwrap();
        assert!(j.all().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
