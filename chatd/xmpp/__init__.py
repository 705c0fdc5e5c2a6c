"""slixmpp adapters: XMPP stanzas in and out, one component stream per domain."""
