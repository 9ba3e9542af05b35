"""Errors the catalog raises, with messages that say what to do next."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class CatalogError(Exception):
    """Base class for every error the catalog package raises on purpose."""


class UnknownDatasetError(CatalogError, ValueError):
    """A data set name that no loader knows."""

    def __init__(self, name: str, valid: Iterable[str]) -> None:
        self.name = name
        self.valid = tuple(sorted(valid))
        super().__init__(f"unknown dataset {name!r}; valid: {', '.join(self.valid)}")


class MissingDataError(CatalogError, FileNotFoundError):
    """A source file the loader needs is not on disk."""

    def __init__(self, path: Path | str, dataset: str = "ml-latest-small") -> None:
        self.path = Path(path)
        self.dataset = dataset
        # Only ml-latest-small may be redistributed, so it is the only one `marquee data fetch` offers.
        if dataset == "ml-latest-small":
            remedy = "run `marquee data fetch ml-latest-small` or set MARQUEE_DATA_DIR"
        else:
            remedy = (
                f"set MARQUEE_DATA_DIR to a folder holding movielens/{dataset} "
                "(only ml-latest-small can be fetched: `marquee data fetch ml-latest-small`)"
            )
        super().__init__(f"missing data file {self.path}; {remedy}")


class UnknownAccountError(CatalogError, LookupError):
    """An account id the event store has never seen."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        super().__init__(f"unknown account {account_id!r}")


class UnknownProfileError(CatalogError, LookupError):
    """A profile id the event store has never seen (or has deleted)."""

    def __init__(self, profile_id: str) -> None:
        self.profile_id = profile_id
        super().__init__(f"unknown profile {profile_id!r}")


class EventConflictError(CatalogError, ValueError):
    """An event id already stored for the profile, sent again with a different payload: a client bug (an
    id reused for another event) that silently keeping the first would hide."""

    def __init__(self, position: int, event_id: str, field: str) -> None:
        self.position = position  # in the batch
        self.event_id = event_id
        self.field = field  # the first field that differs
        super().__init__(f"event id {event_id!r} is already stored with a different {field}")


class StoreUnavailableError(CatalogError):
    """The shared database behind the event store cannot be reached (down, restarting, dropped): the
    request was not applied and may be sent again."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the accounts and events database is unavailable: {reason}")
