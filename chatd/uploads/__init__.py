"""chatd's own upload service (XEP-0363): files held for review, images without metadata."""
