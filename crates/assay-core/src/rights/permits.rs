//! What the acting user may do to the assets in front of them, asked before
//! acting: the role table, then the rules that depend on the asset
//! (its state, a creator's own uploads, separation of duties, the gates an
//! approval needs). Each answer comes from the same checks the action makes
//! when it runs, so the app enables a control exactly when the action would
//! succeed, and shows the rule that refuses it otherwise.

use serde::Serialize;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::rights::edit::{self, Selection};
use crate::rights::gates::Gates;
use crate::rights::workflow::{self, Op};

/// Whether one action would succeed on every selected asset, and if not,
/// the first rule that refuses it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verdict {
    pub allowed: bool,
    /// The refusing rule's name (`role`, `workflow-state`,
    /// `creator-own-assets`, `separation-of-duties`, `eligibility`,
    /// `selection`), as the action's error would name it.
    pub rule: Option<String>,
    /// The sentence the action's error would say, naming the asset.
    pub reason: Option<String>,
    /// How many selected assets the action would be refused on.
    pub refused: u32,
}

impl Verdict {
    fn allowed() -> Verdict {
        Verdict {
            allowed: true,
            rule: None,
            reason: None,
            refused: 0,
        }
    }

    /// Counts a refusal; the first one is the one shown.
    fn refuse(&mut self, error: Error) {
        if self.allowed {
            let (rule, reason) = match error {
                Error::Refused { rule, message } => (rule.to_owned(), message),
                other => (other.code().to_owned(), other.to_string()),
            };
            *self = Verdict {
                allowed: false,
                rule: Some(rule),
                reason: Some(reason),
                refused: 0,
            };
        }
        self.refused += 1;
    }

    fn note(&mut self, outcome: Result<()>) {
        if let Err(error) = outcome {
            self.refuse(error);
        }
    }
}

/// What the acting user may do to a selection, action by action. A
/// transition applies to every selected asset or to none, so an action is
/// allowed only when no selected asset refuses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Permits {
    /// How many assets the selection holds.
    pub assets: u32,
    /// A metadata edit (a bulk edit when more than one asset is selected).
    pub edit: Verdict,
    pub submit: Verdict,
    pub approve: Verdict,
    pub reject: Verdict,
    pub quarantine: Verdict,
    pub release: Verdict,
}

impl Library {
    /// What `actor` may do to the selected assets, with the rule that
    /// refuses each action it may not take. Reads the catalog only.
    pub fn permits(&self, actor: &Actor, selection: &Selection) -> Result<Permits> {
        let conn = self.connect()?;
        let rows = edit::select(&conn, selection)?;
        let count = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let ops = [
            Op::Submit,
            Op::Approve(None),
            Op::Reject(""),
            Op::Quarantine(""),
            Op::Release,
        ];
        let mut edit_verdict = Verdict::allowed();
        let mut verdicts = ops.map(|_| Verdict::allowed());
        if rows.is_empty() {
            for v in verdicts.iter_mut().chain([&mut edit_verdict]) {
                v.refuse(Error::refused(
                    "selection",
                    "select one or more assets first",
                ));
                v.refused = 0;
            }
        }
        // The role table first: a role that may not act is refused on every
        // asset, and the assets need not be read for it.
        let by_role = |v: &mut Verdict, outcome: Result<()>| {
            if let Err(error) = outcome {
                v.refuse(error);
                v.refused = count;
            }
        };
        by_role(&mut edit_verdict, actor.may(Action::EditMetadata));
        if rows.len() > 1 {
            by_role(&mut edit_verdict, actor.may(Action::BulkEdit));
        }
        for (v, op) in verdicts.iter_mut().zip(ops) {
            by_role(v, actor.may(op.action()));
        }
        let role_allows: Vec<bool> = verdicts.iter().map(|v| v.allowed).collect();
        let gates = if verdicts[1].allowed {
            Some((
                Gates::load(&self.root().join("gates.json"))?,
                self.taxonomy()?,
                time::OffsetDateTime::now_utc().date(),
            ))
        } else {
            None
        };
        let editing = edit_verdict.allowed;
        for row in rows {
            let asset = workflow::load(&conn, row)?;
            if editing {
                edit_verdict.note(edit::may_edit(actor, &asset.asset_id, asset.uploaded_by));
            }
            for ((v, op), &role) in verdicts.iter_mut().zip(ops).zip(&role_allows) {
                if !role {
                    continue;
                }
                let failed = match (&gates, op) {
                    (Some((gates, taxonomy, today)), Op::Approve(_)) => {
                        gates.check(&asset.fields, taxonomy, *today)
                    }
                    _ => Vec::new(),
                };
                v.note(workflow::check(actor, &asset, op, &failed));
            }
        }
        let [submit, approve, reject, quarantine, release] = verdicts;
        Ok(Permits {
            assets: count,
            edit: edit_verdict,
            submit,
            approve,
            reject,
            quarantine,
            release,
        })
    }
}
