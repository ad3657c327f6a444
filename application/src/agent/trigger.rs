//! Where a crossing is on its way to a finished decision (the `agent_triggers.status` column).

use std::fmt;
use std::str::FromStr;

/// `pending` -> `deciding` (claimed; committed before any backend is called) -> `decided` (the
/// decision is committed, before anything runs) -> `done`; `failed` when execution gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerStatus {
    Pending,
    Deciding,
    Decided,
    Done,
    Failed,
}

impl TriggerStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Deciding => "deciding",
            Self::Decided => "decided",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Statuses a worker still has something to do for.
    pub const OPEN: [Self; 3] = [Self::Pending, Self::Deciding, Self::Decided];
}

impl fmt::Display for TriggerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown trigger status {0:?}")]
pub struct UnknownTriggerStatus(pub String);

impl FromStr for TriggerStatus {
    type Err = UnknownTriggerStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Pending,
            Self::Deciding,
            Self::Decided,
            Self::Done,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| UnknownTriggerStatus(s.to_owned()))
    }
}

/// What a database row decodes through.
impl TryFrom<String> for TriggerStatus {
    type Error = UnknownTriggerStatus;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_column_text() {
        for status in [
            TriggerStatus::Pending,
            TriggerStatus::Deciding,
            TriggerStatus::Decided,
            TriggerStatus::Done,
            TriggerStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<TriggerStatus>(), Ok(status));
        }
        assert!("claimed".parse::<TriggerStatus>().is_err());
    }
}
