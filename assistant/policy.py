"""The offline dialogue policy: read the utterance, update the preferences, then ask or recommend.

It drives the same tools as the LLM agent, so its answers are the engine's answers; the only text it
writes itself is the framing around them.
"""

from __future__ import annotations

import re

from assistant.preferences import Preferences
from assistant.reply import Composer, Emit, Reply
from assistant.tools import TitleCard, Toolbox
from assistant.understanding import Reading, Understanding

PICKS = 5
CLARIFY = (
    "What are you in the mood for? Name a genre (comedy, thriller, sci-fi...), a feeling (dark, "
    "feel-good, mind-bending), an era, or a film you loved — and anything you'd rather avoid."
)
FOREIGN = "Sorry, I can only read English for now. Could you tell me in English what you'd like to watch?"
_YES = re.compile(r"^\s*(yes|yeah|yep|sure|ok|okay|please|go ahead|do it|fine)\b", re.IGNORECASE)
INTENT_HEADINGS = {
    "trending": "Popular right now",
    "new": "Recent releases",
    "surprise": "A few well-liked picks to surprise you",
}
# Constraints to offer dropping when nothing fits, loosest first.
RELAXABLE = (
    ("max_runtime", "the runtime limit"),
    ("year_min", "the era"),
    ("year_max", "the era"),
    ("genres", "the genre"),
    ("exclude_genres", "the genres you ruled out"),
    ("avoid_moods", "what you asked to avoid"),
    ("people", "the people you named"),
)


# My List requests: saving a title for later, taking one off, or asking what is saved. What the title is
# comes from a name in the utterance, else the previous reply's picks ("that one", "the second one").
_LIST = (
    r"\b(my (watch ?)?list|watch ?list|for later(?! (today|tonight|this))|saved (titles|films|movies|ones))\b"
)
_LIST_REMOVE = re.compile(r"\b(remove|take|drop|delete|clear)\b[^.?!]*\b(off|from|out of)\b[^.?!]*" + _LIST)
_LIST_ADD = re.compile(r"\b(save|add|put|keep|bookmark|stick)\b[^.?!]*" + _LIST)
_LIST_SHOW = re.compile(_LIST)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth|last)\b|(?:#|\bnumber )([1-5])\b")


class OfflinePolicy:
    def __init__(self, understanding: Understanding) -> None:
        self.understanding = understanding

    def turn(self, text: str, tools: Toolbox, emit: Emit | None = None) -> Reply:
        """Answer one utterance; its text goes to `emit` as it is composed (a listing line by line)."""
        out = Composer(emit)
        state = tools.state
        if state.offer and _YES.match(text):
            return out.finish(self._relaxed(tools, out))
        lowered = text.lower()
        if _LIST_SHOW.search(lowered):
            state.offer = None
            return out.finish(self._my_list(text, lowered, tools))
        return self.act(self.understanding.read(text, shown=state.last_shown), tools, out)

    def act(self, reading: Reading, tools: Toolbox, out: Composer | None = None) -> Reply:
        """Apply a reading of the turn (this policy's own or the LLM plan's) and answer it."""
        out = out or Composer()
        return out.finish(self._act(reading, tools, out))

    def _act(self, reading: Reading, tools: Toolbox, out: Composer) -> Reply:
        state = tools.state
        state.offer = None
        if reading.foreign:
            return Reply(text=FOREIGN, question=True)
        notes = self._apply(reading, tools)
        if reading.explain is not None:
            return self._explain(reading.explain, tools, notes)
        if reading.wants_rows:
            return self._rows(tools, notes)
        k = reading.count or PICKS
        only_anchor = reading.update.model_copy(update={"liked_titles": []}).empty()
        if reading.similar_to is not None and only_anchor:
            return self._similar(reading.similar_to, tools, notes, out, k)
        said = reading.reject_last or reading.update.seen_titles or reading.intent or reading.count
        if not state.preferences.specific() and not said and state.questions_asked == 0:
            state.questions_asked += 1
            return Reply(text=" ".join([*notes, CLARIFY]), question=True)
        return self._recommend(tools, notes, out, k, intent=reading.intent)

    def _apply(self, reading: Reading, tools: Toolbox) -> list[str]:
        """Record what the utterance says; return short notes for anything that could not be used."""
        state = tools.state
        for title_id in reading.update.seen_titles:
            tools.feedback(title_id, "seen")
        if reading.reject_last:
            for title_id in state.last_shown:
                tools.feedback(title_id, "not_interested")
        update = reading.update
        if update.genres:
            # Genres replace genres ("make it an action movie"); genres with an era, a length or a mood
            # are a fresh request, so the last request's moods go too.
            fresh = bool(update.moods or update.year_min or update.year_max or update.max_runtime)
            state.preferences = state.preferences.model_copy(
                update={"genres": [], **({"moods": []} if fresh else {})}
            )
        state.preferences = state.preferences.merged(reading.update.model_copy(update={"seen_titles": []}))
        return [f"I couldn't find “{name}” in the catalog." for name in reading.unknown[:2]]

    def _recommend(
        self, tools: Toolbox, notes: list[str], out: Composer, k: int = PICKS, intent: str | None = None
    ) -> Reply:
        # Under the preferences already applied; what is popular now, and requests that say little
        # about taste (a surprise), put well-known titles first.
        popular = intent in ("trending", "surprise", "new")
        found = tools.call("recommend", {"k": k, "popular_first": popular})
        prefs = tools.state.preferences
        if not found.titles:
            return self._nothing_fits(tools, notes)
        about = describe(prefs)
        heading = INTENT_HEADINGS.get(intent or "", "Here are some picks")
        lead = f"{heading}{' for ' + about if about else ' for you' if intent is None else ''}:"
        follow = "Seen any of these, or want something different?"
        return Reply(text=_listing(out, [*notes, lead], found.titles, follow), titles=found.titles)

    def _nothing_fits(self, tools: Toolbox, notes: list[str]) -> Reply:
        prefs = tools.state.preferences
        for name, label in RELAXABLE:
            if getattr(prefs, name):
                tools.state.offer = name
                ask = f"Nothing in the catalog fits all of that ({describe(prefs)}). Shall I drop {label}?"
                return Reply(text=" ".join([*notes, ask]), question=True)
        return Reply(text=" ".join([*notes, "I've run out of titles that fit; try another request."]))

    def _relaxed(self, tools: Toolbox, out: Composer) -> Reply:
        state = tools.state
        field_name, state.offer = state.offer, None
        empty = Preferences.model_fields[field_name].get_default(call_default_factory=True)
        state.preferences = state.preferences.model_copy(update={field_name: empty})
        return self._recommend(tools, [], out)

    def _similar(
        self, title_id: int, tools: Toolbox, notes: list[str], out: Composer, k: int = PICKS
    ) -> Reply:
        found = tools.call("similar_titles", {"title": title_id, "k": k})
        name = tools.engine.titles()[title_id].name
        if not found.titles:
            return Reply(text=" ".join([*notes, f"I have nothing new that is like {name}."]))
        lead = f"More like {name}:"
        return Reply(text=_listing(out, [*notes, lead], found.titles, "Any of these?"), titles=found.titles)

    def _explain(self, title_id: int, tools: Toolbox, notes: list[str]) -> Reply:
        result = tools.call("explain_title", {"title": title_id})
        card = TitleCard.model_validate(result.content["title"])
        text = f"**{card.name}** ({card.year}): {card.explanation}."
        return Reply(text=" ".join([*notes, text]))

    def _my_list(self, text: str, lowered: str, tools: Toolbox) -> Reply:
        action = "remove" if _LIST_REMOVE.search(lowered) else "add" if _LIST_ADD.search(lowered) else "show"
        title = None if action == "show" else _referred(text, lowered, tools)
        if action != "show" and title is None:
            return Reply(text="Which title? Name it, or ask me for picks and say which one.", question=True)
        result = tools.call("my_list", {"action": action, "title": title})
        if not result.ok:
            return Reply(text=f"I couldn't change your list: {result.content['error']}.")
        saved = result.content["my_list"]
        lines = [f"- **{t['name']}**" + (f" ({t['year']})" if t["year"] else "") for t in saved]
        parts = [f"On your list now:\n{chr(10).join(lines)}" if saved else "Your list is empty."]
        if action == "add":
            parts.insert(0, f"Saved **{result.content['added']}** to My List.")
        elif action == "remove":
            parts.insert(0, f"Took **{result.content['removed']}** off My List.")
        return Reply(text="\n\n".join(parts))

    def _rows(self, tools: Toolbox, notes: list[str]) -> Reply:
        result = tools.call("homepage_rows", {"max_rows": 4, "per_row": 4})
        lines = [*notes, "Your home screen right now:"]
        for row in result.content.get("rows", []):
            names = ", ".join(f"{t['name']} ({t['year']})" for t in row["titles"])
            lines.append(f"- **{row['heading']}**: {names}")
        return Reply(text="\n".join(lines))


def _referred(text: str, lowered: str, tools: Toolbox) -> int | None:
    """The title a list request means: one named in it, else a pick of the previous reply by its
    position ("the second one", "#3", "the last one"), else the first of them ("that one", "it")."""
    named = tools.lexicon.titles.mentions(text)
    if named:
        return named[0].title_id
    shown = tools.state.last_shown
    if not shown:
        return None
    m = _ORDINAL.search(lowered)
    if m is None:
        return shown[0]
    position = int(m.group(2)) if m.group(2) else _ORDINALS[m.group(1)]
    return shown[-1] if position == -1 else shown[min(position, len(shown)) - 1]


def describe(prefs: Preferences) -> str:
    """The preferences in a few words: "dark, comedy, 1990s, under 110 minutes, no horror".

    Only what was understood is named: moods are the vocabulary's words, and a described story (three
    words or more) is not repeated back."""
    moods = [m for m in prefs.moods[-2:] if len(m.split()) < 3]
    parts = [", ".join(moods)] if moods else []
    if prefs.genres:
        parts.append(" and ".join(g.lower() for g in prefs.genres))
    if prefs.year_min and prefs.year_max:
        parts.append(f"{prefs.year_min}–{prefs.year_max}")
    elif prefs.year_min:
        parts.append(f"from {prefs.year_min} on")
    elif prefs.year_max:
        parts.append(f"before {prefs.year_max + 1}")
    if prefs.max_runtime:
        parts.append(f"under {prefs.max_runtime} minutes")
    if prefs.exclude_genres:
        parts.append("no " + " or ".join(g.lower() for g in prefs.exclude_genres))
    if prefs.people:
        parts.append("with " + " and ".join(prefs.people[-2:]))
    if prefs.exclude_people:
        parts.append("without " + " or ".join(prefs.exclude_people[-2:]))
    if prefs.avoid_moods:
        parts.append("nothing " + " or ".join(prefs.avoid_moods[-2:]))
    if prefs.audience:
        parts.append(f"suitable for {prefs.audience}")
    return ", ".join(p for p in parts if p)


def _listing(out: Composer, lead: list[str], cards: list[TitleCard], follow: str) -> str:
    """Write the picks: the lead goes out first, then each title's line as it is composed."""
    out.write(" ".join(lead) + "\n")
    for i, card in enumerate(cards, 1):
        out.write("\n" + _item(i, card))
    out.write("\n\n" + follow)
    return out.text


def _item(position: int, card: TitleCard) -> str:
    year = f" ({card.year})" if card.year else ""
    return f"{position}. **{card.name}**{year} — {card.explanation}"
