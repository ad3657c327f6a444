//! `movements`: the stock ledger, one row per event that changed on_hand.

use crate::{fetch_all, DbTx};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Movement {
    pub version: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub delta_on_hand: i64,
    pub on_hand_after: i64,
    pub reference: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A ledger row and the product it belongs to.
pub struct NewMovement {
    pub tenant: String,
    pub sku: String,
    pub movement: Movement,
}

/// The columns every insert below fills, in this order.
macro_rules! insert_head {
    () => {
        "INSERT INTO movements (tenant_id, sku, version, type, delta_on_hand, on_hand_after, \
         reference, occurred_at) "
    };
}

/// Rows per INSERT on SQLite: 8 parameters each stays far below its parameter limit.
const ROWS_PER_STATEMENT: usize = 500;

/// The PostgreSQL bulk insert: one array per column, whatever the number of rows, so it is one
/// prepared statement, planned once, instead of a VALUES list of thousands of parameters that
/// PostgreSQL parses and plans again for each batch.
const INSERT_UNNEST: &str = concat!(
    insert_head!(),
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], \
                          $6::bigint[], $7::text[], $8::timestamptz[])"
);

/// Insert many rows in a few statements: a rebuild writes thousands of ledger rows per batch,
/// and one round trip per row would dominate its time.
pub async fn insert_all(tx: &mut DbTx, rows: &[NewMovement]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    match &mut *tx {
        DbTx::Postgres(conn) => {
            let column = |f: fn(&NewMovement) -> &str| rows.iter().map(f).collect::<Vec<_>>();
            let number =
                |f: fn(&Movement) -> i64| rows.iter().map(|r| f(&r.movement)).collect::<Vec<_>>();
            sqlx::query(INSERT_UNNEST)
                .bind(column(|r| &r.tenant))
                .bind(column(|r| &r.sku))
                .bind(number(|m| m.version))
                .bind(column(|r| &r.movement.kind))
                .bind(number(|m| m.delta_on_hand))
                .bind(number(|m| m.on_hand_after))
                .bind(
                    rows.iter()
                        .map(|r| r.movement.reference.as_deref())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| r.movement.occurred_at)
                        .collect::<Vec<_>>(),
                )
                .execute(&mut **conn)
                .await?;
        }
        DbTx::Sqlite(conn) => {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(insert_head!());
                query.push_values(chunk, |mut row, r: &NewMovement| {
                    row.push_bind(&r.tenant)
                        .push_bind(&r.sku)
                        .push_bind(r.movement.version)
                        .push_bind(&r.movement.kind)
                        .push_bind(r.movement.delta_on_hand)
                        .push_bind(r.movement.on_hand_after)
                        .push_bind(&r.movement.reference)
                        .push_bind(r.movement.occurred_at);
                });
                query.build().execute(&mut **conn).await?;
            }
        }
    }
    Ok(())
}

/// The last `limit` movements at or before `version`, oldest first.
pub async fn latest_until(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    version: i64,
    limit: i64,
) -> Result<Vec<Movement>, sqlx::Error> {
    let mut rows = fetch_all!(
        tx,
        Movement,
        "SELECT version, type, delta_on_hand, on_hand_after, reference, occurred_at \
         FROM movements WHERE tenant_id = $1 AND sku = $2 AND version <= $3 \
         ORDER BY version DESC LIMIT $4",
        tenant,
        sku,
        version,
        limit
    )?;
    rows.reverse();
    Ok(rows)
}

/// Movements after `after_version`, oldest first.
pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    after_version: i64,
    limit: i64,
) -> Result<Vec<Movement>, sqlx::Error> {
    fetch_all!(
        tx,
        Movement,
        "SELECT version, type, delta_on_hand, on_hand_after, reference, occurred_at \
         FROM movements WHERE tenant_id = $1 AND sku = $2 AND version > $3 \
         ORDER BY version LIMIT $4",
        tenant,
        sku,
        after_version,
        limit
    )
}
