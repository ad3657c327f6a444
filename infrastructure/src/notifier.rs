//! Delivering notifications to a webhook: one POST of the notification as JSON. Retries and
//! scheduling belong to the caller (`projections::agent::delivery`), which never blocks the
//! agent or a projection on this.

use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("RESTOCK_WEBHOOK_URL must be an http:// or https:// URL, got {0:?}")]
    BadUrl(String),
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("webhook answered HTTP {0}")]
    Status(u16),
    #[error("webhook unreachable: {0}")]
    Transport(String),
}

#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    url: String,
}

impl WebhookClient {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, NotifyError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(NotifyError::BadUrl(url.to_owned()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| NotifyError::Client(e.to_string()))?;
        Ok(Self {
            http,
            url: url.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// POST the payload; any 2xx is a delivery.
    pub async fn deliver(&self, payload: &Value) -> Result<(), NotifyError> {
        let res = self
            .http
            .post(&self.url)
            .json(payload)
            .send()
            .await
            .map_err(|e| NotifyError::Transport(e.to_string()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(NotifyError::Status(res.status().as_u16()))
        }
    }
}
