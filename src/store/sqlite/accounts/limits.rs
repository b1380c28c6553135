//! LimitStore on SQLite: rate-limit counters in fixed windows, shared by every instance on the database.

use super::*;
use crate::store::accounts::LimitStore;

#[async_trait]
impl LimitStore for SqliteAccountStore {
    async fn count_request(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let key = key.to_owned();
        self.db
            .write(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?3, 1) \
                         ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN window_start + ?2 <= ?3 THEN 1 ELSE count + 1 END, \
                         window_start = CASE WHEN window_start + ?2 <= ?3 THEN ?3 \
                                        ELSE window_start END \
                         RETURNING count, window_start",
                    )?
                    .query_row(params![key, window_ms, now_ms], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?)
            })
            .await
    }
    async fn request_count(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let running = self.db.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT count, window_start FROM rate_limits \
                     WHERE key = ?1 AND window_start + ?2 > ?3",
                )?
                .query_row(params![key, window_ms, now_ms], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })?;
        Ok(running.unwrap_or((0, now_ms)))
    }
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM rate_limits WHERE window_start < ?1")?
                    .execute([before_ms])?;
                Ok(())
            })
            .await
    }
}
