"""A batch of projected rows handed to signal extractors inside the ingest transaction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    """Rows of one ingest transaction, as written to the store tables.

    accounts: rows of `accounts` (id, handle, display_name, bio, avatar_media_id, ...)
    posts: rows of `posts` plus "hashtags", "urls", "mentions" lists
    media: rows of `media` plus "post_id" (or None) and "role" (post | avatar | header) and
           "account_id" (the owner), so extractors can attach findings to the post and account.
    base_dir: the folder the input file is in; relative media `uri`s are resolved against it.
    account_states: the accounts whose state (active, suspended, deleted) an event of the batch set
           (the ban-evasion watch updates its list of suspended accounts from them).
    """

    accounts: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    base_dir: str | None = None
    account_states: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.accounts or self.posts or self.media or self.account_states)
