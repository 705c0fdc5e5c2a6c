-- What a room message points at, so that the archive shows it again (MAM, the history on join):
--   a reply (XEP-0461): {"reply_to": the answered message's stanza-id, "reply_author": its occupant address};
--   a reaction (XEP-0444): {"reactions_to": the stanza-id reacted to}; its emoji are its body.
-- NULL for a plain text. quote_end: a reply's quote is the first quote_end characters of the delivered body.
ALTER TABLE messages ADD COLUMN refs TEXT;
ALTER TABLE messages ADD COLUMN quote_end INTEGER NOT NULL DEFAULT 0;
