"""The asv suite: one module per ORM family, shared builders in ``common``."""
