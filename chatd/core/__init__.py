"""chatd's sans-IO domain logic: plain data in, decisions out. No sockets, no database."""
