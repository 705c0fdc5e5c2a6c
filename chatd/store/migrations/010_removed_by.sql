-- Who removed a delivered message (XEP-0425 by a group's owner); NULL: the Wall Guides, or nobody.
-- Messages their authors took back (XEP-0424) have the verdict 'retracted'; the original stays for moderators.
ALTER TABLE messages ADD COLUMN removed_by INTEGER REFERENCES members(id);
