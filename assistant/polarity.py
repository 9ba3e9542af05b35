"""Whether a title the viewer names is one they disliked: cue words, and a small learned reader.

The cue words catch the explicit cases ("hated X", "X was boring"). The learned reader is a logistic
regression over the text embedder's vector of the sentence with the title replaced by a placeholder,
trained on ReDial seekers' own liked/disliked answers (`evals/mention_polarity.py` fits it and reports
both readers on held-out dialogues). Its weights ship as `polarity.json` beside this module; without that
file the rules alone decide.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

PLACEHOLDER = "MOVIE"
WEIGHTS_FILE = Path(__file__).with_name("polarity.json")
L2 = 1.0  # ridge on the weights; a few thousand examples of 384 dimensions overfit without it
CONFIDENT = 0.9  # the learned reader overrides "liked" only when this sure; cues always win

# Cues before a span in its clause, and complaints after it.
DISLIKED_BEFORE = re.compile(
    r"\b(hated|hate|hates|disliked|dislike|can'?t stand|cannot stand|couldn'?t stand|not a fan of|not into|"
    r"no more|nothing like|unlike|except|anything but|other than|sick of|tired of|avoid|skip|without|"
    r"never again|not|no|nor|nothing|none|never|don'?t|doesn'?t|didn'?t|do not|does not|did not|wasn'?t|"
    r"isn'?t|aren'?t|won'?t|less|fewer)\b[^,.;!?]*$"
)
DISLIKED_AFTER = re.compile(
    r"\b(boring|awful|terrible|overrated|dull|horrible|stupid|sucked|sucks|a waste|the worst|bored me|"
    r"put me to sleep|annoys me|annoying|(is|was|are|were|felt|seemed)\s+(way\s+)?(too|so)\s+\w+|"
    r"(isn'?t|is not|wasn'?t|was not|aren'?t|are not|not)\s+(really\s+)?(my thing|for me|my cup of tea|"
    r"my style|my type|my favou?rite|good|great|that good)|didn'?t do it for me|scared me|too scary)\b"
)
# Said right after a span: "a slasher?? no thanks", "romance? ugh", "horror? no." A "no" that goes on
# ("animated, no romance") negates what follows it, not what came before.
COMPLAINT_AFTER = re.compile(
    r"^\s*(\?\s*){2,}|^\s*[?!.,]+\s*(no thanks|nope|no way|ugh|yuck|not for me|no(?=\s*(?:[,.;!?]|$)))\b"
)
# Negative words that do not negate what follows: "I don't know, maybe Heat", "not only funny".
NOT_NEGATION = re.compile(
    r"\b(don'?t know|not sure|doesn'?t matter|don'?t mind|don'?t care|no problem|not only|no matter|"
    r"can'?t wait|not bad|no doubt|never mind)\b"
)
CLAUSE = re.compile(r"[,.;!?()]|\bbut\b|\bthough\b|\balthough\b")  # where a negation's scope ends
ANYTHING_BUT = re.compile(r"\b(anything|everything|something) but\b")


def cue_polarity(lowered: str, start: int, end: int) -> bool:
    """True when cue words around a span say the viewer does not want it: a negation or a dislike earlier
    in its clause, a complaint later in it, or a scoff right after ("??", "no thanks")."""
    text = NOT_NEGATION.sub(lambda m: " " * len(m.group()), lowered)
    text = ANYTHING_BUT.sub(lambda m: m.group(1) + " nor", text)  # "but" here excludes; it ends no clause
    before = CLAUSE.split(text[:start])[-1]
    if DISLIKED_BEFORE.search(before):
        return True
    after = text[end:]
    if COMPLAINT_AFTER.match(after):
        return True
    return DISLIKED_AFTER.search(CLAUSE.split(after)[0]) is not None


class PolarityReader:
    """Logistic regression on unit-length sentence vectors: P(the named title is disliked)."""

    def __init__(self, weights: np.ndarray, bias: float) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = float(bias)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> PolarityReader | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(np.array(data["weights"]), data["bias"])

    def save(self, path: Path, report: dict) -> None:
        data = {
            "what": "P(disliked) of a title named in a sentence; evals/mention_polarity.py",
            "held_out": report,
            "bias": round(self.bias, 5),
            "weights": [round(float(w), 5) for w in self.weights],
        }
        path.write_text(json.dumps(data) + "\n", encoding="utf-8")

    def disliked_probability(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))


def fit_logistic(x: np.ndarray, y: np.ndarray, *, steps: int = 25) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularized logistic regression by Newton's method (384 dimensions: cheap)."""
    x = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    positives = max(1.0, y.sum())
    sample = np.where(y > 0, len(y) / (2 * positives), len(y) / (2 * max(1.0, len(y) - positives)))
    w = np.zeros(x.shape[1])
    ridge = np.full(x.shape[1], L2)
    ridge[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (sample * (p - y)) + ridge * w
        hess = (x * (sample * p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1])
