-- Bearer JWTs carry no server-side state; an account's tokens issued at or before this instant
-- (milliseconds since the epoch) are refused. A password change or a sign-out moves it to now,
-- so the tokens handed out before stop working; 0 refuses none.
ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT NOT NULL DEFAULT 0;
