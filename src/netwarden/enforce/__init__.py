"""Enforcement: the action outbox, its worker and the platform adapters (docs/enforcement.md)."""
