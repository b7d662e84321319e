//! Stacks: assets shown as one cell under a top (a raw file and the JPEG
//! shot beside it, a burst, near-duplicates a reviewer stacked). Each member
//! other than the top has `stacked_under` set to the top's row, and the top
//! has a row in `stacks` with the stack's kind; this module alone writes
//! both. A stack is how the library is browsed, not a claim about rights,
//! so it is no provenance event.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Why assets were stacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StackKind {
    /// A camera raw file and the JPEG or HEIF shot beside it (same folder,
    /// same name), stacked at import.
    RawPair,
    /// Frames of one burst (same camera, same second, consecutive file
    /// numbers in one folder), stacked at import.
    Burst,
    /// Near-duplicates a reviewer stacked from `assay dupes`.
    Duplicates,
    /// Assets a user stacked by hand.
    Manual,
}

impl StackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StackKind::RawPair => "raw_pair",
            StackKind::Burst => "burst",
            StackKind::Duplicates => "duplicates",
            StackKind::Manual => "manual",
        }
    }

    fn parse(text: &str) -> StackKind {
        match text {
            "raw_pair" => StackKind::RawPair,
            "burst" => StackKind::Burst,
            "duplicates" => StackKind::Duplicates,
            // The schema allows no other value.
            _ => StackKind::Manual,
        }
    }
}

/// A stack, as an asset's record shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Stack {
    /// The asset the stack is shown as.
    pub top: String,
    pub kind: StackKind,
    /// Every asset of the stack, the top first, then in import order.
    pub members: Vec<String>,
}

/// The top of the stack asset `row` belongs to (itself when it is a top).
pub(crate) fn top_of(conn: &Connection, row: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT coalesce(a.stacked_under, (SELECT top FROM stacks WHERE top = a.id))
             FROM assets a WHERE a.id = ?1",
            [row],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// The rows of the stack whose top is `top`: the top first, then the rest in
/// import order.
pub(crate) fn rows(conn: &Connection, top: i64) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM assets WHERE stacked_under = ?1 ORDER BY id")?;
    let mut rows = vec![top];
    for row in stmt.query_map([top], |r| r.get(0))? {
        rows.push(row?);
    }
    Ok(rows)
}

/// The stack asset `row` belongs to, if any.
pub(crate) fn of(conn: &Connection, row: i64) -> Result<Option<Stack>> {
    let Some(top) = top_of(conn, row)? else {
        return Ok(None);
    };
    Ok(read(conn, "WHERE s.top = ?1", [top])?.pop())
}

/// Every stack, by the asset id of each of its members.
pub(crate) fn all(conn: &Connection) -> Result<HashMap<String, Stack>> {
    let mut by_member = HashMap::new();
    for stack in read(conn, "", [])? {
        for member in &stack.members {
            by_member.insert(member.clone(), stack.clone());
        }
    }
    Ok(by_member)
}

/// The stacks `clause` (on `stacks s`) selects, each with its members:
/// the top first, then in import order.
fn read(conn: &Connection, clause: &str, args: impl rusqlite::Params) -> Result<Vec<Stack>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT t.asset_id, s.kind, m.asset_id FROM stacks s
         JOIN assets t ON t.id = s.top
         JOIN assets m ON m.stacked_under = s.top
         {clause}
         ORDER BY s.top, m.id"
    ))?;
    let mut stacks: Vec<Stack> = Vec::new();
    let mut rows = stmt.query(args)?;
    while let Some(r) = rows.next()? {
        let (top, member): (String, String) = (r.get(0)?, r.get(2)?);
        match stacks.last_mut() {
            Some(stack) if stack.top == top => stack.members.push(member),
            _ => stacks.push(Stack {
                kind: StackKind::parse(&r.get::<_, String>(1)?),
                members: vec![top.clone(), member],
                top,
            }),
        }
    }
    Ok(stacks)
}

/// Stacks `rows` under `top`: each of them, and every member of any stack
/// one of them (or `top`) is in, becomes a member of one stack shown as
/// `top`. Run inside the caller's transaction. Returns the stack's rows.
pub(crate) fn stack(
    conn: &Connection,
    top: i64,
    rows: &[i64],
    kind: StackKind,
    at: &str,
) -> Result<Vec<i64>> {
    let mut all = BTreeSet::from([top]);
    for &row in rows.iter().chain([&top]) {
        all.insert(row);
        if let Some(old_top) = top_of(conn, row)? {
            all.extend(self::rows(conn, old_top)?);
        }
    }
    if all.len() < 2 {
        return Ok(all.into_iter().collect());
    }
    let mut unset_top = conn.prepare_cached("DELETE FROM stacks WHERE top = ?1")?;
    let mut fold = conn.prepare_cached("UPDATE assets SET stacked_under = ?2 WHERE id = ?1")?;
    for &row in &all {
        if row != top {
            unset_top.execute([row])?;
            fold.execute(params![row, top])?;
        }
    }
    conn.execute(
        "UPDATE assets SET stacked_under = NULL WHERE id = ?1",
        [top],
    )?;
    conn.execute(
        "INSERT INTO stacks (top, kind, made_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(top) DO UPDATE SET kind = excluded.kind, made_at = excluded.made_at",
        params![top, kind.as_str(), at],
    )?;
    self::rows(conn, top)
}

/// Dissolves the stack asset `row` belongs to, inside the caller's
/// transaction; returns the rows it held (none when `row` was in none).
pub(crate) fn unstack(conn: &Connection, row: i64) -> Result<Vec<i64>> {
    let Some(top) = top_of(conn, row)? else {
        return Ok(Vec::new());
    };
    let rows = rows(conn, top)?;
    conn.execute(
        "UPDATE assets SET stacked_under = NULL WHERE stacked_under = ?1",
        [top],
    )?;
    conn.execute("DELETE FROM stacks WHERE top = ?1", [top])?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(n: i64) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::catalog::migrations::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        for id in 1..=n {
            conn.execute(
                "INSERT INTO assets (id, asset_id, checksum, size_bytes, media_type,
                    imported_at, rights)
                 VALUES (?1, 'a' || ?1, ?1, 1, 'image/jpeg', '2026-01-01T00:00:00Z', '{}')",
                [id],
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn stacking_joins_whole_stacks_and_unstacking_frees_every_member() {
        let conn = catalog(5);
        stack(&conn, 1, &[2], StackKind::RawPair, "t").unwrap();
        stack(&conn, 3, &[4], StackKind::RawPair, "t").unwrap();
        // Stacking a member of each pair brings both pairs, under the top given.
        let rows = stack(&conn, 4, &[2], StackKind::Burst, "t").unwrap();
        assert_eq!(rows, [4, 1, 2, 3]);
        let s = of(&conn, 1).unwrap().unwrap();
        assert_eq!((s.top.as_str(), s.kind), ("a4", StackKind::Burst));
        assert_eq!(s.members, ["a4", "a1", "a2", "a3"]);
        let tops: i64 = conn
            .query_row("SELECT count(*) FROM stacks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tops, 1);
        assert_eq!(of(&conn, 5).unwrap(), None);
        let by_member = all(&conn).unwrap();
        assert_eq!(by_member.len(), 4);
        assert_eq!(by_member["a3"], s);

        assert_eq!(unstack(&conn, 2).unwrap(), [4, 1, 2, 3]);
        for row in 1..=5 {
            assert_eq!(of(&conn, row).unwrap(), None);
        }
        assert!(unstack(&conn, 2).unwrap().is_empty());
    }
}
