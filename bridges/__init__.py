"""Bridges to the rest of an operator's world (NATS, bots): see the bridges issue."""
