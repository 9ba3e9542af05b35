"""Titles, interactions, profiles and events, data set loaders and splits. Imports nothing of ours."""

from catalog.business import MATURITY_ORDER, REGIONS, Business, allowed_maturity, derive_business
from catalog.context import Constraints, Context, History
from catalog.dataset import Dataset
from catalog.errors import (
    CatalogError,
    EventConflictError,
    MissingDataError,
    StoreUnavailableError,
    UnknownAccountError,
    UnknownDatasetError,
    UnknownProfileError,
)
from catalog.events import Account, Accounts, Event, EventKind, EventStore, Profile, Store, new_id
from catalog.history import HISTORY_KINDS, history_from_events
from catalog.imported import BadRow, ImportFailed, ImportReport, import_dataset
from catalog.interactions import POSITIVE_RATING, Interactions
from catalog.loaders import DATASETS, dataset_dir, dataset_names, load_dataset, parse_title
from catalog.metadata import MATURITY_RATINGS, enrich, normalize_maturity
from catalog.splitting import (
    SPLIT_KINDS,
    Split,
    make_split,
    random_split,
    temporal_split,
    user_temporal_split,
)
from catalog.titles import Title

__all__ = [
    "DATASETS",
    "HISTORY_KINDS",
    "MATURITY_ORDER",
    "MATURITY_RATINGS",
    "POSITIVE_RATING",
    "REGIONS",
    "SPLIT_KINDS",
    "Account",
    "Accounts",
    "BadRow",
    "Business",
    "CatalogError",
    "EventConflictError",
    "Constraints",
    "Context",
    "Dataset",
    "Event",
    "EventKind",
    "EventStore",
    "History",
    "ImportFailed",
    "ImportReport",
    "Interactions",
    "MissingDataError",
    "Profile",
    "Split",
    "Store",
    "StoreUnavailableError",
    "Title",
    "UnknownAccountError",
    "UnknownDatasetError",
    "UnknownProfileError",
    "allowed_maturity",
    "dataset_dir",
    "dataset_names",
    "derive_business",
    "enrich",
    "history_from_events",
    "import_dataset",
    "load_dataset",
    "make_split",
    "new_id",
    "normalize_maturity",
    "parse_title",
    "random_split",
    "temporal_split",
    "user_temporal_split",
]
