"""Watch rules: keyword expressions with AND / OR / NOT, parentheses and quoted phrases.

    rule = parse_rule('(鲜味坊 OR XWF) 投诉 NOT "鲜味坊 小区"')
    rule.match("鮮味坊被投訴了")       # Match(matched=True, terms=['鲜味坊', '投诉'])
    str(rule)                          # the canonical form: '(鲜味坊 OR XWF) AND 投诉 AND NOT "鲜味坊 小区"'

Grammar (EBNF; see docs/ingest.md "Rules")::

    rule    = or_expr EOF ;
    or_expr = and_expr { ( "OR" | "|" ) and_expr } ;
    and_expr = unary { [ "AND" ] unary } ;          (* two operands side by side: AND *)
    unary   = "NOT" unary | primary ;
    primary = TERM | PHRASE | "(" or_expr ")" ;
    TERM    = a run of characters other than white space, ( ) （ ） | ｜ and quote marks,
              that is not one of the words AND, OR, NOT (any case, any width) ;
    PHRASE  = '"' chars '"' | "“" chars "”" | "「" chars "」" | "『" chars "』" ;

Matching is substring containment after ``fold``: NFKC (full-width = half-width), case folding,
Traditional and Simplified characters mapped to one canonical character (OpenCC's character
tables), white space collapsed. Terms are folded once, when the rule is built.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

__all__ = [
    "And",
    "Match",
    "Node",
    "Not",
    "Or",
    "Rule",
    "RuleSyntaxError",
    "Term",
    "default_rule",
    "fold",
    "parse_rule",
    "render",
    "rule_for",
]

MAX_DEPTH = 50  # parentheses and NOTs nested deeper than this are refused (no RecursionError)

# ---------------------------------------------------------------------------------------- folding

_SPACE = re.compile(r"\s+")


def _opencc_dictionaries() -> Path:
    spec = importlib.util.find_spec("opencc")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("opencc-python-reimplemented is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


@lru_cache(maxsize=1)
def _chinese_table() -> dict[int, str]:
    """A ``str.translate`` table mapping every character of a Traditional/Simplified family to one.

    Built from OpenCC's character dictionaries (``TSCharacters``: what t2s may turn a character
    into, ``STCharacters``: what s2t may turn it into, and the Taiwan and Hong Kong variant tables).
    Characters linked by any of them form one class (乾/干/幹/榦, 复/複/復/覆, 了/瞭, 裏/裡/里) and
    all map to one member, preferring a Simplified one.
    Context-free on purpose: a term folds the same alone as inside a longer text, which phrase-level
    t2s does not give ("乾" alone becomes "干", inside "乾隆" it stays). Loaded once, ~30 ms.
    """
    folder = _opencc_dictionaries()
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        parent.setdefault(char, char)
        while parent[char] != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    simplified: set[str] = set()
    for name in ("TSCharacters.txt", "STCharacters.txt", "TWVariants.txt", "HKVariants.txt"):
        with open(folder / name, encoding="utf-8") as lines:
            for line in lines:
                key, _, values = line.rstrip("\n").partition("\t")
                if len(key) != 1:
                    continue
                targets = [v for v in values.split() if len(v) == 1]
                if name == "STCharacters.txt":
                    simplified.add(key)
                elif name == "TSCharacters.txt" and targets:
                    simplified.add(targets[0])
                for target in targets:
                    parent[find(key)] = find(target)
    classes: dict[str, list[str]] = {}
    for char in list(parent):
        classes.setdefault(find(char), []).append(char)
    table: dict[int, str] = {}
    for members in classes.values():
        canonical = min(members, key=lambda c: (c not in simplified, c))
        table.update({ord(c): canonical for c in members if c != canonical})
    return table


# A text is matched again on every page it appears on (reposts embed their original): short ones
# are folded once. Bounded in entries and in length, so a warm function's memory stays small.
FOLD_CACHE_ENTRIES, FOLD_CACHE_MAX_CHARS = 2048, 1000


def fold(text: str) -> str:
    """The form rule terms and post texts are compared in.

    NFKC (``ＸＷＦ`` -> ``XWF``, ``（`` -> ``(``, ideographic space -> space), ``casefold()``,
    Traditional/Simplified variants -> one character (``鮮味坊`` and ``鲜味坊`` fold alike), runs of
    white space -> one space, stripped.
    """
    return _fold_cached(text) if len(text) <= FOLD_CACHE_MAX_CHARS else _fold(text)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = text.translate(_chinese_table())
    return _SPACE.sub(" ", text).strip()


_fold_cached = lru_cache(maxsize=FOLD_CACHE_ENTRIES)(_fold)


# ------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Term:
    """A word or quoted phrase; hits when its folded form occurs in the folded text."""

    text: str  # as written (a phrase without its quotes): what a match reports
    folded: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded", fold(self.text))

    def _eval(self, text: str, hits: list[str]) -> bool:
        if self.folded in text:
            hits.append(self.text)
            return True
        return False


@dataclass(frozen=True, slots=True)
class And:
    """All children hit. Built with two or more children."""

    children: tuple[Node, ...]

    def _eval(self, text: str, hits: list[str]) -> bool:
        mark = len(hits)
        for child in self.children:
            if not child._eval(text, hits):
                del hits[mark:]
                return False
        return True


@dataclass(frozen=True, slots=True)
class Or:
    """Any child hits; every child is tried, so that all hitting alternatives are reported.

    Built with two or more children; an empty ``Or`` (the default rule of a watch without a usable
    keyword) never hits.
    """

    children: tuple[Node, ...]

    def _eval(self, text: str, hits: list[str]) -> bool:
        hit = False
        for child in self.children:
            hit = child._eval(text, hits) or hit
        return hit


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not hit. Terms under a NOT are never reported."""

    child: Node

    def _eval(self, text: str, hits: list[str]) -> bool:
        mark = len(hits)
        hit = self.child._eval(text, hits)
        del hits[mark:]
        return not hit


Node = Term | And | Or | Not


@dataclass(frozen=True, slots=True)
class Match:
    """Whether a text matched, and the positive terms (as written in the rule) that hit.

    ``terms`` is empty when the text does not match; it can also be empty for a match of a rule
    with no positive term (``NOT 广告``).
    """

    matched: bool
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed rule. Immutable and shareable; equal when the trees are equal."""

    root: Node
    _negative: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        negative = [t.folded for t, positive in _terms(self.root) if not positive and t.folded]
        object.__setattr__(self, "_negative", tuple(dict.fromkeys(negative)))

    def match(self, text: str) -> Match:
        hits: list[str] = []
        if self.root._eval(fold(text), hits):
            return Match(True, list(dict.fromkeys(hits)))
        return Match(False, [])

    def excludes(self, text: str) -> bool:
        """True when ``text`` contains a term the rule negates (a term under an odd number of NOTs).

        For the default rule these are the watch's exclusion words.
        """
        folded = fold(text)
        return any(term in folded for term in self._negative)

    @property
    def terms(self) -> list[str]:
        """The positive terms, in rule order, without repeats."""
        return list(dict.fromkeys(t.text for t, positive in _terms(self.root) if positive))

    def __str__(self) -> str:
        return render(self.root)


def _terms(node: Node, positive: bool = True) -> Iterator[tuple[Term, bool]]:
    if isinstance(node, Term):
        yield node, positive
    elif isinstance(node, Not):
        yield from _terms(node.child, not positive)
    else:
        for child in node.children:
            yield from _terms(child, positive)


# ---------------------------------------------------------------------------------------- errors


class RuleSyntaxError(ValueError):
    """An expression that is not a rule. ``str()`` shows the expression with a caret under the problem."""

    def __init__(self, message: str, position: int, expression: str = "") -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position  # 0-based character offset into ``expression``
        self.expression = expression

    def __str__(self) -> str:
        if not self.expression:
            return f"{self.message} (at character {self.position + 1})"
        shown = "".join(_shown(c) for c in self.expression)
        pad = sum(_width(_shown(c)) for c in self.expression[: self.position])
        return f"{self.message} (at character {self.position + 1})\n  {shown}\n  {' ' * pad}^"


def _shown(char: str) -> str:
    if char.isspace():
        return " "
    return "?" if unicodedata.category(char) in ("Cc", "Cs") else char


def _width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


# ------------------------------------------------------------------------------------- tokenizer

_OPEN = "(（"
_CLOSE = ")）"
_BAR = "|｜"
_QUOTES = {'"': '"＂', "＂": '"＂', "“": "”", "「": "」", "『": "』"}  # opening mark -> closing marks
_STRAY_CLOSERS = "”」』"
_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}
_DELIMITERS = frozenset(_OPEN + _CLOSE + _BAR + "".join(_QUOTES) + _STRAY_CLOSERS)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # TERM, LPAREN, RPAREN, AND, OR, NOT, EOF
    position: int
    text: str = ""  # a term as written, or the operator as written


def _is_control(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) in ("Cc", "Cs")


def _operator(word: str) -> str | None:
    return _OPERATORS.get(unicodedata.normalize("NFKC", word).casefold())


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(expression)
    while i < n:
        char = expression[i]
        if char.isspace():
            i += 1
        elif char in _OPEN or char in _CLOSE or char in _BAR:
            kind = "LPAREN" if char in _OPEN else "RPAREN" if char in _CLOSE else "OR"
            tokens.append(_Token(kind, i, char))
            i += 1
        elif char in _QUOTES:
            end = min((j for j in (expression.find(c, i + 1) for c in _QUOTES[char]) if j >= 0), default=-1)
            if end < 0:
                raise RuleSyntaxError("quote is never closed", i, expression)
            phrase = expression[i + 1 : end].strip()
            if not fold(phrase):
                raise RuleSyntaxError("empty quotes: a quoted phrase needs something to match", i, expression)
            tokens.append(_Token("TERM", i, phrase))
            i = end + 1
        elif char in _STRAY_CLOSERS:
            raise RuleSyntaxError(f"closing quote {char} without an opening one", i, expression)
        elif _is_control(char):
            raise RuleSyntaxError(f"unexpected control character U+{ord(char):04X}", i, expression)
        else:
            start = i
            while i < n and not (
                expression[i].isspace() or expression[i] in _DELIMITERS or _is_control(expression[i])
            ):
                i += 1
            word = expression[start:i]
            operator = _operator(word)
            if operator:
                tokens.append(_Token(operator, start, word))
            elif not fold(word):
                raise RuleSyntaxError(
                    "this term has nothing left to match once normalized", start, expression
                )
            else:
                tokens.append(_Token("TERM", start, word))
    tokens.append(_Token("EOF", n))
    return tokens


# ---------------------------------------------------------------------------------------- parser

_STARTS_OPERAND = frozenset({"TERM", "LPAREN", "NOT"})


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.i = 0

    def error(self, message: str, position: int) -> RuleSyntaxError:
        return RuleSyntaxError(message, position, self.expression)

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.token.kind == "EOF":
            raise self.error("empty rule: write at least one term", 0)
        node = self.or_expr(0)
        if self.token.kind == "RPAREN":
            raise self.error("closing parenthesis without an opening one", self.token.position)
        return node  # or_expr stops only at ")" or the end

    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth)]
        while self.token.kind == "OR":
            self.advance()
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int) -> Node:
        children = [self.unary(depth)]
        while self.token.kind == "AND" or self.token.kind in _STARTS_OPERAND:
            if self.token.kind == "AND":
                self.advance()
            children.append(self.unary(depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, depth: int) -> Node:
        if self.token.kind == "NOT":
            token = self.advance()
            if depth >= MAX_DEPTH:
                raise self.error(f"nested more than {MAX_DEPTH} levels deep", token.position)
            return Not(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> Node:
        token = self.token
        if token.kind == "TERM":
            self.advance()
            return Term(token.text)
        if token.kind == "LPAREN":
            self.advance()
            if depth >= MAX_DEPTH:
                raise self.error(f"nested more than {MAX_DEPTH} levels deep", token.position)
            node = self.or_expr(depth + 1)
            if self.token.kind != "RPAREN":
                raise self.error("parenthesis is never closed", token.position)
            self.advance()
            return node
        raise self.missing_operand(token)

    def missing_operand(self, token: _Token) -> RuleSyntaxError:
        """The error for ``token`` standing where a term, phrase, NOT or "(" must be."""
        before = self.tokens[self.i - 1] if self.i else None
        if before is not None and before.kind in ("AND", "OR", "NOT"):
            if token.kind == "EOF":
                return self.error(f"{before.text} at the end: nothing follows it", before.position)
            if token.kind == "RPAREN":
                return self.error(f"{before.text} before ')': nothing follows it", before.position)
            return self.error(f"{token.text} right after {before.text}: expected a term", token.position)
        if before is not None and before.kind == "LPAREN" and token.kind == "RPAREN":
            return self.error("empty parentheses", before.position)
        if token.kind == "RPAREN":
            return self.error("closing parenthesis without an opening one", token.position)
        if token.kind == "EOF":  # only after "(": "(" then the end
            return self.error("parenthesis is never closed", before.position if before else 0)
        return self.error(f"{token.text} has nothing before it", token.position)


def parse_rule(expression: str) -> Rule:
    """Parse a rule expression. Raises ``RuleSyntaxError`` (a ``ValueError``) pointing at the problem."""
    return Rule(_Parser(expression).parse())


@lru_cache(maxsize=512)
def _parse_cached(expression: str) -> Rule:
    return parse_rule(expression)


# -------------------------------------------------------------------------------------- renderer


def _bare(text: str) -> bool:
    """Can ``text`` be written without quotes and read back as the same term?"""
    return (
        bool(fold(text))
        and _operator(text) is None
        and not any(c.isspace() or c in _DELIMITERS or _is_control(c) for c in text)
    )


def _render_term(text: str) -> str:
    if _bare(text):
        return text
    if text == text.strip() and fold(text):
        for opening, closings in _QUOTES.items():
            if opening != "＂" and not any(c in text for c in closings):
                return f"{opening}{text}{closings[0]}"
    raise ValueError(f"term {text!r} cannot be written in the rule language")


def render(node: Node) -> str:
    """The canonical text of a tree: ``parse_rule(render(node)).root == node``.

    Terms are quoted when they must be; a nested AND/OR is parenthesized so that it reads back as
    the same tree. Raises ``ValueError`` for a term no quoting can express (blank, or containing
    every kind of closing quote) and for an empty OR.
    """
    if isinstance(node, Term):
        return _render_term(node.text)
    if isinstance(node, Not):
        inner = render(node.child)
        return f"NOT ({inner})" if isinstance(node.child, And | Or) else f"NOT {inner}"
    if not node.children:
        raise ValueError("an empty OR matches nothing and has no text")
    if isinstance(node, Or):
        return " OR ".join(f"({render(c)})" if isinstance(c, Or) else render(c) for c in node.children)
    return " AND ".join(f"({render(c)})" if isinstance(c, And | Or) else render(c) for c in node.children)


# ------------------------------------------------------------------------------------ watch level


def _any_of(words: Iterable[str]) -> Node | None:
    terms = [Term(w) for w in dict.fromkeys(w.strip() for w in words)]
    terms = [t for t in terms if t.folded]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


@lru_cache(maxsize=512)
def _default_cached(keywords: tuple[str, ...], exclude: tuple[str, ...]) -> Rule:
    positive = _any_of(keywords) or Or(())
    negative = _any_of(exclude)
    return Rule(positive if negative is None else And((positive, Not(negative))))


def default_rule(keywords: Sequence[str], exclude: Sequence[str] = ()) -> Rule:
    """``(kw1 OR kw2 …) AND NOT (ex1 OR ex2 …)``, built as a tree (the words are never parsed).

    Blank words are left out; without any usable keyword the rule matches nothing.
    """
    return _default_cached(tuple(keywords), tuple(exclude))


class RuledWatch(Protocol):
    """What a rule needs of a watch (`crisiswatch.vocabulary.Watch`, which validates its rules
    with this module: a Protocol here, not an import, keeps the two free of a cycle)."""

    @property
    def rules(self) -> Mapping[str, str]: ...

    @property
    def keywords(self) -> Sequence[str]: ...

    @property
    def exclude(self) -> Sequence[str]: ...


def rule_for(watch: RuledWatch, platform: str | None = None) -> Rule:
    """The rule a post from ``platform`` must match: ``watch.rules[platform]`` if the watch has one,
    else the default rule from its keywords and exclusion words. Parsed rules are cached."""
    expression = watch.rules.get(platform) if platform is not None else None
    if expression is not None:
        return _parse_cached(expression)
    return default_rule(watch.keywords, watch.exclude)
