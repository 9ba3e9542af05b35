"""Grounding a reply while it streams: text goes out as the model writes it, titles only once checked.

Prose is released as it arrives. A bold title (`**Name** (year)`) is held until it is complete, then
checked by the `Grounder`: a real, allowed title goes out, an invented or blocked one is replaced before
any of it reaches the client. A list item is held until its first title is checked, so an item whose
title is cut leaves no trace (an item that names its title without bold is checked by its head, and set in
bold when it may stay); a line is held until it can be told from code, and a line of code or JSON
ends the reply there (`code` is set; nothing of it is released).
"""

from __future__ import annotations

import re

from assistant.grounding import CUT, LIST_ITEM, NAMED, Grounder, plain_item
from assistant.llm_text import code_line

DECIDE = 12  # characters of a line after which it can be told from code
_YEAR_PREFIX = re.compile(r"\s*(?:\((?:\d{1,4}\)?)?)?")  # what may still become " (1999)"
_ITEM_PREFIX = re.compile(r"\s*(?:[-*•]|\d+[.)]?)?")  # what may still become a list marker


class StreamGrounder:
    def __init__(self, grounder: Grounder) -> None:
        self.grounder = grounder
        self.code = False  # the model started writing code: everything from there on was withheld
        self.text = ""  # everything released so far
        self._line = ""
        self._done = 0  # characters of the current line already released or decided
        self._decided = False  # the current line is known not to be code
        self._item: bool | None = None  # the current line is a list item whose first title is pending
        self._dropped = False

    def feed(self, delta: str) -> str:
        """The part of the reply that can go out now that `delta` arrived."""
        out = []
        for piece in re.split(r"(\n)", delta):
            if self.code:
                break
            if piece == "\n":
                out.append(self._advance(final=True))
                if not self._dropped and not self.code:
                    out.append("\n")
                self._line, self._done, self._decided, self._item, self._dropped = "", 0, False, None, False
            elif piece:
                self._line += piece
                out.append(self._advance(final=False))
        released = "".join(out)
        self.text += released
        return released

    def finish(self) -> str:
        """The rest, once the model is done."""
        released = "" if self.code else self._advance(final=True)
        self.text += released
        return released

    def _advance(self, *, final: bool) -> str:
        line = self._line
        if self._dropped:
            return ""
        if not self._decided:
            if not final and len(line.strip()) < DECIDE:
                return ""
            if code_line(line):
                self.code = True
                return ""
            self._decided = True
        if self._item is None:
            if LIST_ITEM.match(line):
                self._item = True
            elif final or not _ITEM_PREFIX.fullmatch(line):
                self._item = False
            else:
                return ""
        out = []
        start = self._done
        held = self._item  # a list item shows nothing until its first title is checked
        while True:
            opening = line.find("**", self._done)
            if opening < 0 and final and held and "**" not in line:
                item = plain_item(line, self.grounder.check)  # a title written without bold is checked too
                self._dropped = item is None
                self._done = len(line)
                return item or ""
            if opening < 0:
                end = len(line) if final or not line.endswith("*") else len(line) - 1
                if final or not held:  # an item without a title goes out when it ends
                    out.append(line[start if held else self._done : end])
                    self._done = end
                break
            closing = line.find("**", opening + 2)
            if closing < 0 and not final:
                if not held:
                    out.append(line[self._done : opening])
                    self._done = opening
                break
            if closing < 0:  # an unmatched "**" at the end of the reply: plain text
                out.append(line[start if held else self._done :])
                self._done = len(line)
                break
            tail = line[closing + 2 :]
            if not final and _YEAR_PREFIX.fullmatch(tail) and len(tail) < 8:
                if not held:
                    out.append(line[self._done : opening])
                    self._done = opening
                break  # the year may still be coming
            match = NAMED.match(line, opening)
            if match is None:  # "** not a title **": release as written
                end = closing + 2
                out.append(line[start if held else self._done : end])
            elif self.grounder.check(match):
                end = match.end()
                out.append(line[start if held else self._done : end])
            elif held:
                self._dropped = True
                return ""
            else:
                end = match.end()
                out.append(line[self._done : opening] + CUT)
            self._done = end
            held = False
            self._item = False  # the first title is checked: the rest of the item streams
        return "".join(out)
