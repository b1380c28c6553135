//! LimitStore on PostgreSQL: rate-limit counters in fixed windows, shared by every instance on the database.

use super::*;
use crate::store::accounts::LimitStore;

#[async_trait]
impl LimitStore for PgAccountStore {
    async fn count_request(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "INSERT INTO rate_limits AS r (key, window_start, count) \
                         VALUES ($1, $3, 1) ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN r.window_start + $2 <= $3 THEN 1 \
                                 ELSE r.count + 1 END, \
                         window_start = CASE WHEN r.window_start + $2 <= $3 THEN $3 \
                                        ELSE r.window_start END \
                         RETURNING count, window_start",
                    )
                    .await?;
                let row = client.query_one(&statement, &[&key, &window_ms, &now_ms]).await?;
                Ok((row.try_get(0)?, row.try_get(1)?))
            })
            .await
    }
    async fn request_count(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT count, window_start FROM rate_limits \
                         WHERE key = $1 AND window_start + $2 > $3",
                    )
                    .await?;
                let row = client.query_opt(&statement, &[&key, &window_ms, &now_ms]).await?;
                match row {
                    Some(row) => Ok((row.try_get(0)?, row.try_get(1)?)),
                    None => Ok((0, now_ms)),
                }
            })
            .await
    }
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("DELETE FROM rate_limits WHERE window_start < $1")
                    .await?;
                client.execute(&statement, &[&before_ms]).await?;
                Ok(())
            })
            .await
    }
}
