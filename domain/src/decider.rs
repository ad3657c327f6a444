//! Who decided a refill: the recorded `decided_by` of every purchase request.

use crate::ids::ValueError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Written as `policy`, `llm:<model>` or `user:<sub>` in events, rows and the API, so a
/// string is what every store and client sees; in code it is one of three cases.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Decider {
    /// The built-in deterministic policy.
    Policy,
    /// An LLM, by the model name it was asked with.
    Llm(String),
    /// A person, by the token's `sub`.
    User(String),
}

impl Decider {
    pub fn is_policy(&self) -> bool {
        matches!(self, Self::Policy)
    }
}

impl fmt::Display for Decider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Policy => f.write_str("policy"),
            Self::Llm(model) => write!(f, "llm:{model}"),
            Self::User(sub) => write!(f, "user:{sub}"),
        }
    }
}

impl FromStr for Decider {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let named = |name: &str| {
            if name.is_empty() {
                Err(ValueError::new("decided_by", "names nobody"))
            } else {
                Ok(name.to_owned())
            }
        };
        if s == "policy" {
            Ok(Self::Policy)
        } else if let Some(model) = s.strip_prefix("llm:") {
            named(model).map(Self::Llm)
        } else if let Some(sub) = s.strip_prefix("user:") {
            named(sub).map(Self::User)
        } else {
            Err(ValueError::new(
                "decided_by",
                format!("must be policy, llm:<model> or user:<sub>, got {s:?}"),
            ))
        }
    }
}

impl TryFrom<String> for Decider {
    type Error = ValueError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Decider> for String {
    fn from(d: Decider) -> Self {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        for d in [
            Decider::Policy,
            Decider::Llm("qwen2.5:7b".into()),
            Decider::User("ana".into()),
        ] {
            assert_eq!(d.to_string().parse::<Decider>(), Ok(d.clone()));
            let json = serde_json::to_string(&d).expect("serialize");
            assert_eq!(serde_json::from_str::<Decider>(&json).expect("parse"), d);
        }
        assert_eq!(
            serde_json::to_string(&Decider::Llm("m".into())).expect("json"),
            "\"llm:m\""
        );
        assert!("llm:".parse::<Decider>().is_err());
        assert!("robot".parse::<Decider>().is_err());
    }
}
