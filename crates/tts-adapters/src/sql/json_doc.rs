//! Entity documents as query arguments: typed `json`, not `jsonb`, on PostgreSQL.

use serde_json::value::RawValue;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;

/// A serialized entity bound for a `data` column. On PostgreSQL those columns are `json`: nothing
/// queries inside them, so the server keeps the text as sent instead of parsing it into `jsonb` on
/// every write and printing it back on every read. On SQLite it is text.
#[derive(Debug, Clone)]
pub(crate) struct JsonDoc(pub(crate) Box<RawValue>);

impl JsonDoc {
    /// `value` serialized; `backend` names the store in the error.
    pub(crate) fn of(backend: &'static str, value: &impl serde::Serialize) -> tts_core::Result<JsonDoc> {
        serde_json::value::to_raw_value(value)
            .map(JsonDoc)
            .map_err(|e| tts_core::Error::Backend {
                backend,
                kind: tts_core::ErrorKind::Internal,
                message: format!("cannot serialize a row: {e}"),
            })
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::postgres::types::Oid;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, Postgres};

    /// PostgreSQL's fixed oid of the `json` type.
    const JSON_OID: Oid = Oid(114);

    impl sqlx::Type<Postgres> for JsonDoc {
        fn type_info() -> PgTypeInfo {
            PgTypeInfo::with_oid(JSON_OID)
        }
    }

    impl Encode<'_, Postgres> for JsonDoc {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            // `json`'s binary form is its text.
            buf.extend_from_slice(self.0.get().as_bytes());
            Ok(IsNull::No)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo};

    impl sqlx::Type<Sqlite> for JsonDoc {
        fn type_info() -> SqliteTypeInfo {
            <str as sqlx::Type<Sqlite>>::type_info()
        }
    }

    impl Encode<'_, Sqlite> for JsonDoc {
        fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
            Encode::<Sqlite>::encode(self.0.get().to_owned(), buf)
        }
    }
}
