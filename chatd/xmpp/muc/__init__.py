"""The MUC service by concern; chatd.xmpp.rooms puts them together."""
