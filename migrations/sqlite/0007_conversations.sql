-- Conversations: see the Postgres migration for why these are rows. Types follow 0001
-- (timestamps as RFC 3339 text, ids as text, JSON as text).

CREATE TABLE conversations (
    tenant_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    owner           TEXT NOT NULL,
    title           TEXT,
    created_at      TEXT NOT NULL,
    last_message_at TEXT,
    PRIMARY KEY (tenant_id, conversation_id)
);
CREATE INDEX conversations_by_owner ON conversations (tenant_id, owner, conversation_id);

CREATE TABLE conversation_messages (
    tenant_id       TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    message_id      TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text            TEXT    NOT NULL,
    turn            TEXT,
    context         TEXT,
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, position)
);

CREATE TABLE conversation_actions (
    tenant_id       TEXT NOT NULL,
    action_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    turn_id         TEXT NOT NULL,
    tool            TEXT NOT NULL,
    arguments       TEXT NOT NULL,
    summary         TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    result          TEXT,
    confirmed_by    TEXT,
    confirmed_at    TEXT,
    PRIMARY KEY (tenant_id, action_id)
);
