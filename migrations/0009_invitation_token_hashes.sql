-- An invitation's accept link is a bearer capability, so it is stored hashed like sessions and API
-- tokens: `id` becomes a public, non-secret name (listing, revoking) and `token_hash` holds the SHA-256
-- of the secret the link carries, which is shown once, when the invitation is created.
--
-- A pending invitation's id is its old link, and SQL cannot hash it, so pending invitations are
-- deleted: their links answer 404 from now on and admins send them again (they lasted 7 days anyway,
-- and keeping them would leave a live capability in plain text). Accepted invitations stay, as
-- history, with no token_hash: their old ids open nothing, since links are now looked up by hash only
-- and an accepted invitation cannot be accepted again.
DELETE FROM invitations WHERE accepted_at IS NULL;

ALTER TABLE invitations ADD COLUMN token_hash TEXT;  -- NULL only for invitations accepted before 0009
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
