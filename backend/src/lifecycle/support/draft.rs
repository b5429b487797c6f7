//! Reply drafts from an OpenAI-compatible chat API (optional, off unless ORDERFLOW_LLM_URL is
//! set). The model sees the conversation, the order's facts and the template's suggestion, and
//! writes a draft for staff to edit; nothing it writes is sent by itself.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::Config;
use crate::infra::outbound::Outbound;

const SYSTEM: &str = "You draft replies for a shop's customer-support team. Write only the reply \
text to the shopper, in the shopper's language, short and specific. Use only the facts given; \
never promise refunds, discounts, dates or actions that the facts do not state. If something \
cannot be answered from the facts, say that the team will check and get back.";

/// A chat completion's answer is read up to this size.
const MAX_ANSWER: usize = 1024 * 1024;

/// The draft, or why there is none.
pub async fn draft(
    config: &Config,
    operator: &Outbound,
    shop: &str,
    transcript: &str,
    facts: &str,
    suggestion: &str,
) -> Result<String, String> {
    let Some(url) = &config.llm_url else {
        return Err("no drafting model is configured (ORDERFLOW_LLM_URL)".into());
    };
    let body = json!({
        "model": config.llm_model,
        "temperature": 0.2,
        "messages": [
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": format!(
                "Shop: {shop}\n\nConversation, oldest first:\n{transcript}\n\nFacts about the order:\n{facts}\n\nThe team's template suggests:\n{suggestion}\n\nDraft the reply to the shopper's last message."
            ) },
        ],
    });
    let mut request = operator
        .request(reqwest::Method::POST, &format!("{url}/chat/completions"))
        .json(&body);
    if let Some(key) = &config.llm_api_key {
        request = request.bearer_auth(key.expose());
    }
    let response = operator
        .send(request, Duration::from_secs(30), MAX_ANSWER)
        .await
        .map_err(|e| format!("the drafting model did not answer: {e}"))?;
    let status = response.status;
    let reply: Value = serde_json::from_slice(&response.body)
        .map_err(|e| format!("the drafting model's answer is not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "the drafting model refused ({status}): {}",
            reply
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
        ));
    }
    reply
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "the drafting model's answer has no text".into())
}
