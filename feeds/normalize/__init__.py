"""Pure normalization steps: raw input -> ``Article``.  No I/O here."""
