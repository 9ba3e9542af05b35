"""The plan-first LLM driver, for real and small models: read with the model, act with the engine.

One structured call per turn: the model fills a compact plan (what the viewer asked for, and which action),
sent as a JSON schema in `response_format`, or as one forced function call where the server refuses
that. The plan is checked against the shared offline reading of the same message (negations, numbers and
references are the rules' to read; titles and people the model names must appear in what the viewer
wrote, so a call copied from nowhere changes nothing) and then acted on by the offline policy through the
tools, so every pick is the engine's. A second short streamed call writes the reply around the grounded
picks; a template writes it when that call fails or the settings say so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.grounding import Grounder
from assistant.llm_client import ChatClient, Deadline, LLMUnavailable
from assistant.llm_stream import StreamGrounder
from assistant.llm_style import Style
from assistant.llm_text import first_object, recover_calls
from assistant.policy import OfflinePolicy
from assistant.reply import Reply
from assistant.state import Message
from assistant.titles import normalize
from assistant.tools import TOOLS, Toolbox
from assistant.understanding import Reading
from engine import CircuitBreaker

T = TypeVar("T")
Action = Literal["recommend", "similar", "explain", "rows", "ask"]
PLAN_TOOL = "plan"
CONTEXT_MESSAGES = 4  # earlier messages the planner sees: enough for "the second one", short for small models

PLAN_PROMPT = """You read a film viewer's latest message and fill a plan for a recommender as JSON.
Fill only what the viewer said; leave everything else out. Write titles and names as the viewer wrote them.
action: recommend (wants picks), similar (more like one title), explain (why a title), rows (their home
screen), ask (nothing to go on: a greeting or an unclear message).
Known so far: {known}"""

REPLY_PROMPT = """You write a film recommender's reply to a viewer. Recommend exactly the titles listed, in
that order, one per line as **Name** (year) followed by a short reason taken from the list. Name no other
title. Plain sentences only. {style}"""


class Plan(BaseModel):
    """What the model read in one message. Lenient: small models send odd shapes; what cannot be read is
    dropped rather than failing the turn."""

    model_config = ConfigDict(extra="ignore")

    action: Action = "recommend"
    genres: list[str] = Field(default_factory=list)
    exclude_genres: list[str] = Field(default_factory=list)
    moods: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    liked_titles: list[str] = Field(default_factory=list)
    disliked_titles: list[str] = Field(default_factory=list)
    seen_titles: list[str] = Field(default_factory=list)
    title: str | None = None  # the one title of "similar" and "explain"
    year_min: int | None = None
    year_max: int | None = None
    max_runtime: int | None = None

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> Any:
        return value if value in ("recommend", "similar", "explain", "rows", "ask") else "recommend"

    @field_validator(
        "genres", "exclude_genres", "moods", "people", "liked_titles", "disliked_titles", "seen_titles",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _names(cls, value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value] if value else []
        return [str(v).strip()[:80] for v in items if isinstance(v, (str, int)) and str(v).strip()][:10]

    @field_validator("year_min", "year_max", "max_runtime", mode="before")
    @classmethod
    def _number(cls, value: Any) -> int | None:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        return number if 30 <= number <= 2100 else None

    @field_validator("title", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return str(value).strip()[:80] or None if isinstance(value, (str, int)) else None

    @classmethod
    def from_call(cls, name: str, args: dict[str, Any]) -> Plan:
        """A tool call the model made (or wrote out) instead of a plan, read as the plan it implies."""
        fields = dict(args)
        if name == "recommend":
            fields |= {"moods": args.get("mood"), "liked_titles": args.get("like_titles")}
        elif name == "similar_titles":
            fields = {"action": "similar", "title": args.get("title")}
        elif name == "explain_title":
            fields = {"action": "explain", "title": args.get("title")}
        elif name == "homepage_rows":
            fields = {"action": "rows"}
        elif name == "search_titles":
            fields = {"moods": [args.get("query")]}
        elif name == "record_feedback":
            kind = {"seen": "seen_titles", "liked": "liked_titles"}.get(
                args.get("feedback"), "disliked_titles"
            )
            fields = {kind: [args.get("title")]}
        return cls.model_validate(fields)


def plan_schema(genres: tuple[str, ...]) -> dict[str, Any]:
    """The plan's JSON schema: compact, the catalog's genres as an enum, no examples to copy."""
    names = {"type": "array", "items": {"type": "string"}}
    genre_list = {"type": "array", "items": {"type": "string", "enum": list(genres)}}
    number = {"type": ["integer", "null"]}
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["recommend", "similar", "explain", "rows", "ask"]},
            "genres": genre_list,
            "exclude_genres": genre_list,
            "moods": names,
            "people": names,
            "liked_titles": names,
            "disliked_titles": names,
            "seen_titles": names,
            "title": {"type": ["string", "null"]},
            "year_min": number,
            "year_max": number,
            "max_runtime": number,
        },
        "required": ["action"],
        "additionalProperties": False,
    }


class PlanDriver:
    def __init__(
        self, client: ChatClient, policy: OfflinePolicy, *, reply: Literal["model", "template"]
    ) -> None:
        self.client = client
        self.policy = policy
        self.reply_mode = reply
        self._schema_refused = False  # the server refused response_format: use a function call

    @property
    def breaker(self) -> CircuitBreaker:
        return self.client.breaker

    def turn(
        self,
        text: str,
        tools: Toolbox,
        reading: Reading,
        *,
        deadline: Deadline,
        transcript: list[Message],
        style: Style,
        emit: Callable[[str], None],
    ) -> Reply:
        plan = self._plan(text, tools, transcript, deadline)
        merged = merge(
            plan, reading, tools, said=" ".join([*(m.content for m in transcript if m.role == "user"), text])
        )
        reply = self.policy.act(merged, tools)
        if not reply.titles or self.reply_mode == "template":
            emit(reply.text)
            return reply.model_copy(update={"mode": "llm"})
        return self._write(text, reply, tools, deadline, style, emit)

    # -- the plan call ---------------------------------------------------------------------------

    def _plan(self, text: str, tools: Toolbox, transcript: list[Message], deadline: Deadline) -> Plan:
        known = tools.state.preferences.model_dump_json(exclude_defaults=True)
        messages: list[dict[str, Any]] = [{"role": "system", "content": PLAN_PROMPT.format(known=known)}]
        messages += [{"role": m.role, "content": m.content} for m in transcript[-CONTEXT_MESSAGES:]]
        messages.append({"role": "user", "content": text})
        schema = plan_schema(tools.lexicon.genres)
        refused = False
        if not self._schema_refused:
            try:
                format_ = {"type": "json_schema", "json_schema": {"name": PLAN_TOOL, "schema": schema}}
                message = self.client.complete(
                    messages, deadline, optional=True, response_format=format_, temperature=0
                )
                return read_plan(message)
            except LLMUnavailable as exc:
                # An HTTP answer is the server refusing the schema (400 as older servers do, a 500 from
                # llama-cpp-python's request validation); no answer at all is the model being away.
                if exc.status is None:
                    raise
                refused = True
        spec = {"type": "function", "function": {"name": PLAN_TOOL, "parameters": schema}}
        message = self.client.complete(
            messages,
            deadline,
            tools=[spec],
            tool_choice={"type": "function", "function": {"name": PLAN_TOOL}},
            temperature=0,
        )
        # Remembered once a function call worked: one refused call per server, not per turn.
        self._schema_refused = self._schema_refused or refused
        return read_plan(message)

    # -- the reply -------------------------------------------------------------------------------

    def _write(
        self,
        text: str,
        reply: Reply,
        tools: Toolbox,
        deadline: Deadline,
        style: Style,
        emit: Callable[[str], None],
    ) -> Reply:
        listing = "\n".join(
            f"{i}. {c.name} ({c.year}): {c.explanation}" for i, c in enumerate(reply.titles, 1)
        )
        messages = [
            {"role": "system", "content": REPLY_PROMPT.format(style=style.instruction()).strip()},
            {"role": "user", "content": f"The viewer said: {text}\nTitles:\n{listing}"},
        ]
        stream = StreamGrounder(Grounder(tools))
        try:
            for delta in self.client.stream(messages, deadline, temperature=0.3, max_tokens=400):
                if piece := stream.feed(delta):
                    emit(piece)
                if stream.code:
                    break
            else:
                if piece := stream.finish():
                    emit(piece)
        except LLMUnavailable:
            pass  # the picks stand: the template finishes the reply below
        named = list(stream.grounder.cards.values())
        written = stream.text.strip()
        if not named:  # nothing usable was written: the template's reply (after any prose already sent)
            emit(("\n\n" if written else "") + reply.text)
            return reply.model_copy(update={"mode": "llm", "text": (written + "\n\n" + reply.text).strip()})
        return reply.model_copy(
            update={"mode": "llm", "text": written, "titles": named, "invented": stream.grounder.invented}
        )


def read_plan(message: Any) -> Plan:
    """The plan in a model's answer: a function call, a JSON body, or a tool call written as text."""
    known = {PLAN_TOOL, *TOOLS}
    calls = [(c.function.name, c.function.arguments) for c in (message.tool_calls or [])]
    content = message.content or ""
    calls += [(c.name, c.arguments) for c in recover_calls(content, known)]
    try:
        for name, args in calls:
            data = json.loads(args, strict=False) if isinstance(args, str) else args
            if isinstance(data, dict) and name in known:
                return Plan.model_validate(data) if name == PLAN_TOOL else Plan.from_call(name, data)
        data = first_object(content)
        if data is not None and set(data) & set(Plan.model_fields):
            return Plan.model_validate(data)
    except (json.JSONDecodeError, ValidationError):
        pass
    raise LLMUnavailable("the model's plan could not be read")


def merge(plan: Plan, reading: Reading, tools: Toolbox, *, said: str) -> Reading:
    """The turn's reading: the rules' reading of the message, completed by the model's plan where the
    plan's additions are anchored in what the viewer wrote and not contradicted by the rules. Who is
    watching (and so the maturity limit) stays the rules' to read."""
    said_key = f" {normalize(said)} "
    update = reading.update
    unknown = list(reading.unknown)

    def anchored(name: str) -> bool:
        return f" {normalize(name)} " in said_key

    def titles(names: list[str], against: list[int]) -> list[int]:
        found = []
        for name in names:
            if not anchored(name):
                continue  # not something the viewer wrote: copied or imagined
            title_id = tools.lexicon.titles.resolve(name)
            if title_id is None:
                unknown.append(name)
            elif title_id not in against:
                found.append(title_id)
        return found

    # What the rules read as ruled out stays out, whatever the model copied from the sentence.
    ruled_out = {normalize(p) for p in update.exclude_people}
    avoided = {normalize(m) for m in update.avoid_moods}

    def wanted_person(name: str) -> bool:
        return anchored(name) and normalize(name) not in ruled_out

    def wanted_mood(mood: str) -> bool:
        return any(anchored(w) for w in mood.split()) and normalize(mood) not in avoided

    def number(value: int | None) -> int | None:
        # Numbers are the rules' to read; a model's counts only where the viewer wrote it. A real small
        # model filled "1984-2005, under 135 minutes" for "I loved Toy Story, anything like that?".
        return value if value is not None and re.search(rf"(?<!\d){value}(?!\d)", said) else None

    lexicon = tools.lexicon
    plan_genres = [g for g in (lexicon.genre(n) for n in plan.genres) if g]
    # Ruling a genre out narrows every later pick: only a genre the viewer named. The same model
    # excluded ten genres nobody had mentioned.
    plan_excluded = [g for g in (lexicon.genre(n) for n in plan.exclude_genres if anchored(n)) if g]
    # Genre words the rules found are explicit: they win; the model's genres count only when there were none.
    genres = update.genres or [g for g in plan_genres if g not in update.exclude_genres]
    excluded = [*update.exclude_genres, *(g for g in plan_excluded if g not in genres)]
    rejected = [*update.disliked_titles, *update.seen_titles]
    # A copy of the rules' update: fields the plan has no say in (and any added later) pass through.
    merged = update.model_copy(
        update={
            "genres": _unique(genres, 10),
            "exclude_genres": _unique(excluded, 10),
            "moods": (update.moods or [m for m in plan.moods if wanted_mood(m)])[:10],
            "liked_titles": _unique([*update.liked_titles, *titles(plan.liked_titles, rejected)], 10),
            "disliked_titles": _unique([*update.disliked_titles, *titles(plan.disliked_titles, [])], 10),
            "seen_titles": _unique([*update.seen_titles, *titles(plan.seen_titles, [])], 20),
            "people": _unique([*update.people, *(p for p in plan.people if wanted_person(p))], 10),
            "year_min": update.year_min if update.year_min is not None else _year(number(plan.year_min)),
            "year_max": update.year_max if update.year_max is not None else _year(number(plan.year_max)),
            "max_runtime": update.max_runtime or _runtime(number(plan.max_runtime)),
        }
    )
    # Everything else the rules read (references, counts, intents) passes through unchanged.
    result = replace(
        reading,
        update=merged,
        wants_rows=reading.wants_rows or plan.action == "rows",
        unknown=list(dict.fromkeys(unknown)),
    )
    if plan.title and (plan.action in ("similar", "explain")):
        shown = {normalize(tools.engine.titles()[t].name): t for t in tools.state.last_shown}
        title_id = shown.get(normalize(plan.title))  # "why the second one?": a title just shown
        if title_id is None and anchored(plan.title):
            title_id = tools.lexicon.titles.resolve(plan.title)
        if plan.action == "similar" and result.similar_to is None and title_id is not None:
            result.similar_to = title_id
            result.update = merged.model_copy(update={"liked_titles": [*merged.liked_titles, title_id][-10:]})
        if plan.action == "explain" and result.explain is None and title_id is not None:
            result.explain = title_id
    return result


def _unique(items: list[T], limit: int) -> list[T]:
    return list(dict.fromkeys(items))[:limit]


def _year(value: int | None) -> int | None:
    return value if value is not None and 1870 <= value <= 2100 else None


def _runtime(value: int | None) -> int | None:
    return value if value is not None and value <= 600 else None
