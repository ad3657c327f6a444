//! The chat panel on every page: the Conversations API's interpreter (or LLM), asked through a
//! form. Each person keeps one running conversation (their latest), so a follow-up on another
//! page ("and the mugs?") leans on what was asked before. A change asked for is only shown as
//! a proposal; a manager confirms it with its own button, which runs the ordinary command.

use super::layout;
use super::Session;
use crate::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use restock_application::chat::{ChatError, Turn};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct AskForm {
    text: String,
}

/// The panel itself, rendered into every page.
pub fn panel() -> Markup {
    html! {
        aside #chat-panel.chat aria-label="Chat" {
            h2 { "Ask about your stock" }
            div #chat-log aria-live="polite" {}
            form #chat-form method="post" action="/ui/chat" hx-post="/ui/chat" hx-target="#chat-log"
                hx-swap="beforeend" {
                input #chat-text type="text" name="text" maxlength="2000" required
                    placeholder="How much milk do we have? / O que está abaixo do mínimo?";
                button type="submit" { "Ask" }
            }
        }
    }
}

/// A fragment: the question and the answer, appended to the log.
fn exchange(question: &str, conversation: Uuid, turn: &Turn, session: &Session) -> Markup {
    html! {
        div.chat-turn.user { (question) }
        div.chat-turn.assistant data-answered-by=(turn.answered_by) {
            p.answer { (turn.text) }
            @if let Some(action) = &turn.proposed_action {
                div.proposal {
                    p { "Proposed: " (action.summary) }
                    @if session.is_manager() {
                        form method="post"
                            action={"/ui/chat/" (conversation) "/actions/" (action.id) "/confirm"}
                            hx-post={"/ui/chat/" (conversation) "/actions/" (action.id) "/confirm"}
                            hx-target="closest .proposal" hx-swap="outerHTML" {
                            button type="submit" { "Confirm" }
                        }
                    } @else {
                        p.muted { "A manager can confirm this." }
                    }
                }
            }
        }
    }
}

fn failed(message: &str) -> Markup {
    html! { div.chat-turn.assistant.error role="alert" { (message) } }
}

/// The caller's running conversation: their latest, or a new one.
async fn conversation(app: &AppState, session: &Session) -> Result<Uuid, ChatError> {
    let mine = app.chat.list(&session.tenant, &session.user).await?;
    match mine.first() {
        Some(latest) => Ok(latest.id),
        None => Ok(app.chat.create(&session.tenant, &session.user).await?.id),
    }
}

pub async fn ask(
    State(app): State<AppState>,
    session: Session,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return layout::respond(StatusCode::BAD_REQUEST, failed("Type a question first."));
    };
    let asked = async {
        let id = conversation(&app, &session).await?;
        let turn = app
            .chat
            .post_message(&session.caller(), id, &form.text)
            .await?;
        Ok::<_, ChatError>((id, turn))
    };
    match asked.await {
        Ok((id, turn)) => layout::respond(
            StatusCode::OK,
            exchange(form.text.trim(), id, &turn, &session),
        ),
        Err(ChatError::Invalid(message)) => {
            layout::respond(StatusCode::BAD_REQUEST, failed(&message))
        }
        Err(e @ ChatError::Busy) => layout::respond(StatusCode::CONFLICT, failed(&e.to_string())),
        Err(e) => {
            tracing::warn!(error = %e, "chat panel");
            layout::respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                failed("The assistant could not answer just now; please try again."),
            )
        }
    }
}

pub async fn confirm(
    State(app): State<AppState>,
    session: Session,
    Path((conversation, action)): Path<(Uuid, Uuid)>,
) -> Response {
    if let Err(refused) = session.require_manager() {
        return refused;
    }
    match app
        .chat
        .confirm(&session.caller(), conversation, action)
        .await
    {
        Ok(_) => layout::respond(
            StatusCode::OK,
            html! { div.proposal.done { p { "Done." } } },
        ),
        Err(e @ (ChatError::Expired(_) | ChatError::Tool(_))) => layout::respond(
            StatusCode::CONFLICT,
            html! { div.proposal.error role="alert" { p { "Not done: " (e.to_string()) } } },
        ),
        Err(ChatError::NotFound | ChatError::ActionNotFound) => layout::respond(
            StatusCode::NOT_FOUND,
            failed("That proposal is not yours or no longer exists."),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "chat confirm");
            layout::respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                failed("Could not confirm just now; please try again."),
            )
        }
    }
}
