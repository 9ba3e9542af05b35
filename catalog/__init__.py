"""Titles, interactions, profiles and events, data set loaders and splits. Imports nothing of ours."""

from catalog.context import Constraints, Context, History
from catalog.dataset import Dataset
from catalog.interactions import POSITIVE_RATING, Interactions
from catalog.titles import Title

__all__ = ["POSITIVE_RATING", "Constraints", "Context", "Dataset", "History", "Interactions", "Title"]
