"""The store's one error type."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed for a reason the caller can explain."""
