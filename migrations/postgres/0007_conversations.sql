-- Conversations (API.md "Conversations"): rows, not events. A conversation is a record of what
-- was asked and answered, not a fact about stock: nothing is folded from it, no projection
-- reads it, and its only invariant (one owner, messages in order) is a primary key. Its one
-- effect on stock, a confirmed action, goes through the ordinary command and is an event there,
-- caused by the turn that proposed it.

CREATE TABLE conversations (
    tenant_id       text        NOT NULL,
    conversation_id text        NOT NULL,
    owner           text        NOT NULL,
    title           text,
    created_at      timestamptz NOT NULL,
    last_message_at timestamptz,
    PRIMARY KEY (tenant_id, conversation_id)
);
CREATE INDEX conversations_by_owner ON conversations (tenant_id, owner, conversation_id);

-- `turn` is the assistant's whole answer (tool calls, data, proposed action) as JSON text, and
-- `context` what the interpreter keeps for the next question's follow-up.
CREATE TABLE conversation_messages (
    tenant_id       text        NOT NULL,
    conversation_id text        NOT NULL,
    position        bigint      NOT NULL,
    message_id      text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant')),
    text            text        NOT NULL,
    turn            text,
    context         text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, position)
);

-- A change asked in chat, until (and after) a manager confirms it; `result` is the first
-- confirmation's answer, returned to every repeat.
CREATE TABLE conversation_actions (
    tenant_id       text        NOT NULL,
    action_id       text        NOT NULL,
    conversation_id text        NOT NULL,
    turn_id         text        NOT NULL,
    tool            text        NOT NULL,
    arguments       text        NOT NULL,
    summary         text        NOT NULL,
    expires_at      timestamptz NOT NULL,
    result          text,
    confirmed_by    text,
    confirmed_at    timestamptz,
    PRIMARY KEY (tenant_id, action_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['conversations', 'conversation_messages', 'conversation_actions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''restock.tenant'', true))',
            t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO restock_app', t);
    END LOOP;
END $$;
