"""chatd: a moderated, anonymous peer-support chat service on XMPP."""
