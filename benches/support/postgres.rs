//! PostgreSQL for the benchmarks: a schema of their own per dataset on the
//! database of `CASIA_TEST_POSTGRES_URL`, dropped when done.

use std::time::{SystemTime, UNIX_EPOCH};

use casia::store_sql::sqlx::{self, AssertSqlSafe, Connection, PgConnection};

const PREFIX: &str = "casia_bench_";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A schema `casia_bench_<secs>_<pid>_<tag>`; [`Schema::drop`] removes it.
pub struct Schema {
    admin: String,
    pub name: String,
}

impl Schema {
    pub async fn create(url: &str, tag: &str) -> Schema {
        let name = format!("{PREFIX}{}_{}_{tag}", now_secs(), std::process::id());
        let mut conn = PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create schema {name}: {e}"));
        let _ = conn.close().await;
        Schema {
            admin: url.to_owned(),
            name,
        }
    }

    /// The database URL with `search_path` set to this schema, plus the
    /// given server settings (`options[key]=value`).
    pub fn url(&self, settings: &[(&str, &str)]) -> String {
        let mut url = self.admin.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in
            std::iter::once(("search_path", self.name.as_str())).chain(settings.iter().copied())
        {
            url.push(sep);
            url.push_str(&format!("options[{k}]={v}"));
            sep = '&';
        }
        url
    }

    pub async fn drop(self) {
        if let Ok(mut conn) = PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.name
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// Drops the bench schemas an interrupted run left behind (older than an
/// hour).
pub async fn drop_stale(url: &str) {
    let Ok(mut conn) = PgConnection::connect(url).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::TEXT FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    let cutoff = now_secs().saturating_sub(3600);
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        let safe = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if safe && created.is_some_and(|c| c < cutoff) {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    let _ = conn.close().await;
}
