"""Stage 2: diversification, the multi-objective blend, artwork variants and bandits."""

from ranker.artwork import VARIANTS, render, variants_for
from ranker.bandits import NEW_SEGMENT, SEGMENTS, ArtworkBandit, ArtworkPolicy, RowOrderBandit, taste_segment
from ranker.blend import BlendWeights, blend
from ranker.diversify import explore, intra_list_diversity, mmr
from ranker.features import FeatureBuilder, TitleStats
from ranker.ltr import (
    LTRConfig,
    LTRRanker,
    ProfileLengthRanker,
    Ranker,
    SourceOrderRanker,
    TrainedRanker,
    choose_ranker,
    load_ranker,
)

__all__ = [
    "NEW_SEGMENT",
    "SEGMENTS",
    "VARIANTS",
    "ArtworkBandit",
    "ArtworkPolicy",
    "BlendWeights",
    "FeatureBuilder",
    "LTRConfig",
    "LTRRanker",
    "ProfileLengthRanker",
    "Ranker",
    "RowOrderBandit",
    "SourceOrderRanker",
    "TitleStats",
    "TrainedRanker",
    "blend",
    "choose_ranker",
    "explore",
    "intra_list_diversity",
    "load_ranker",
    "mmr",
    "render",
    "taste_segment",
    "variants_for",
]
