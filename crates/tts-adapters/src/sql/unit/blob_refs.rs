//! [`BlobRefs`] in SQL: the `blob_refs` and `blob_orphans` tables.

use super::{Deferred, SqlUnit};
use crate::sql::values::{Arg, storable};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::Result;
use tts_core::ids::AttachmentId;
use tts_core::ports::BlobRefs;

/// Makes `$1` an orphan since `$2` unless an attachment uses it (an existing orphan keeps its time).
const ORPHAN: &str = "INSERT INTO blob_orphans (sha256, since) SELECT $1, $2 \
                      WHERE NOT EXISTS (SELECT 1 FROM blob_refs WHERE sha256 = $1) \
                      ON CONFLICT (sha256) DO NOTHING";

#[async_trait]
impl BlobRefs for SqlUnit {
    async fn add_blob_ref(&mut self, attachment: AttachmentId, sha256: &str) -> Result<()> {
        self.defer(Deferred::any(
            "INSERT INTO blob_refs (attachment_id, sha256) VALUES ($1, $2)",
            vec![Arg::Uuid(attachment.0), Arg::Text(sha256.to_string())],
            None,
        ))
        .await?;
        self.defer(Deferred::any(
            "DELETE FROM blob_orphans WHERE sha256 = $1",
            vec![Arg::Text(sha256.to_string())],
            None,
        ))
        .await
    }

    async fn remove_blob_ref(&mut self, attachment: AttachmentId, at: DateTime<Utc>) -> Result<()> {
        let gone = self
            .fetch(
                "DELETE FROM blob_refs WHERE attachment_id = $1 RETURNING sha256",
                vec![Arg::Uuid(attachment.0)],
                |r| r.text(0).map(str::to_string),
            )
            .await?;
        for sha256 in gone {
            self.execute(ORPHAN, vec![Arg::Text(sha256), Arg::Time(storable(at))])
                .await?;
        }
        Ok(())
    }

    async fn release_blob(&mut self, sha256: &str, at: DateTime<Utc>) -> Result<()> {
        self.defer(Deferred::any(
            ORPHAN,
            vec![Arg::Text(sha256.to_string()), Arg::Time(storable(at))],
            None,
        ))
        .await
    }

    async fn take_orphan_blobs(&mut self, before: DateTime<Utc>, limit: usize) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT sha256 FROM blob_orphans WHERE since < $1 ORDER BY since, sha256 LIMIT $2{}",
            self.lock()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let due = self
            .fetch(sql, vec![Arg::Time(storable(before)), Arg::I64(limit)], |r| {
                r.text(0).map(str::to_string)
            })
            .await?;
        let mut taken = Vec::new();
        for sha256 in due {
            self.execute(
                "DELETE FROM blob_orphans WHERE sha256 = $1",
                vec![Arg::Text(sha256.clone())],
            )
            .await?;
            let used = self
                .fetch(
                    "SELECT 1 FROM blob_refs WHERE sha256 = $1 LIMIT 1",
                    vec![Arg::Text(sha256.clone())],
                    |r| r.i64(0),
                )
                .await?;
            if used.is_empty() {
                taken.push(sha256);
            }
        }
        Ok(taken)
    }
}
