"""Reading YAML while remembering where every value was written.

PyYAML composes the node tree; values are built here so each JSON path maps to its
1-based line and column, and so a repeated key is an error instead of a silent
overwrite. A file is read within limits (nesting depth, values after aliases
expand, digits of a number), so a hostile or broken file is one clear error at a
line and column, never a crash or a hang.

The events come from libyaml's C parser when PyYAML has it (ten times faster than
the pure-Python scanner, with the same marks); a text the C parser rejects is read
again by the pure-Python parser, so every syntax error reads exactly as it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from harness.source.problems import JsonPath, Position, Problem, SourceMap, short

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: What libyaml reads unlike PyYAML (see :func:`_loaders`).
_PURE_ONLY = re.compile(r"[\t\ufeff\x85\u2028\u2029]|(?:^|[\s\[\]{},])!")
#: How deep lists and mappings may nest (scenarios and packs need under a dozen).
MAX_DEPTH = 64
#: How many values a file may hold once its aliases are expanded.
MAX_VALUES = 100_000
#: How many digits a number may have (Python's own limit is 4,300).
MAX_DIGITS = 100
_SYNTAX_TIPS = (
    (
        "mapping values are not allowed",
        "quote a value that contains ': ' (rationale: \"why: this\")",
    ),
    ("'\\t'", "indent with spaces, not tabs"),
    ("expected a single document", "keep one scenario per file: remove the '---'"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class YamlDocument:
    """Plain values read from YAML, their positions, and structural problems."""

    data: Any
    source_map: SourceMap
    problems: tuple[Problem, ...] = ()


class YamlSyntaxError(Exception):
    """The text is not YAML; ``problem`` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def read_yaml(text: str) -> YamlDocument:
    """Build plain Python values from ``text`` with a source map of their positions."""
    return _document(_compose(text, _loaders(text)))


def _loaders(text: str) -> tuple[type, ...]:
    """The loaders for ``text``: libyaml reads some texts PyYAML refuses or reads
    otherwise (tabs, a byte-order mark past the start, the Unicode line breaks,
    tags),
    and those go to the pure parser only; see also :func:`_read_alike`."""
    if _PURE_ONLY.search(text.removeprefix("\ufeff")):
        return _LOADERS[-1:]
    return _LOADERS


def _compose(text: str, loaders: tuple[type, ...]) -> Node | None:
    """The node tree of ``text`` from the first loader that reads it; the last
    loader's error (the pure-Python parser's, whose messages we teach) if none."""
    *faster, last = loaders
    for loader in faster:
        try:
            root: Node | None = yaml.compose(text, Loader=loader)
        except _TooBig as err:  # our own limit: the same at the same mark
            raise YamlSyntaxError(err.problem) from None
        except yaml.YAMLError:
            continue  # read again by the next loader, for its message
        if root is None or _read_alike(root):
            return root
    try:
        return yaml.compose(text, Loader=last)
    except _TooBig as err:
        raise YamlSyntaxError(err.problem) from None
    except yaml.MarkedYAMLError as err:
        raise YamlSyntaxError(_syntax_problem(err)) from None
    except yaml.reader.ReaderError as err:
        raise YamlSyntaxError(_special_character(err, text)) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError(
            Problem(
                path=None,
                message=f"invalid YAML: {err}",
                fix="check the file is YAML",
                position=Position(1, 1),
            )
        ) from None


def _read_alike(root: Node) -> bool:
    """Whether PyYAML reads the tree libyaml composed alike. Inside ``[...]`` or
    ``{...}`` it may not: libyaml lets a plain scalar hold a ``?`` (PyYAML ends
    the scalar there and refuses the text), and puts an empty value one column
    further on than PyYAML does (as it does an empty key anywhere)."""
    stack: list[tuple[Node, bool]] = [(root, False)]
    seen: set[int] = set()
    while stack:
        node, in_flow = stack.pop()
        if isinstance(node, ScalarNode):
            if in_flow and not node.style and ("?" in node.value or not node.value):
                return False
            continue
        if id(node) in seen:  # an alias: its node was checked where it was written
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            flow = in_flow or bool(node.flow_style)
            stack.extend((item, flow) for item in node.value)
        elif isinstance(node, MappingNode):
            flow = in_flow or bool(node.flow_style)
            for key, value in node.value:  # an empty key (``? ``) is like a flow's
                stack.extend(((key, flow or _empty(key)), (value, flow)))
    return True


def _empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and not node.value


def _document(root: Node | None) -> YamlDocument:
    if root is None:
        return YamlDocument(
            data=None, source_map=SourceMap(values={(): Position(1, 1)}, order={(): 0})
        )
    builder = _Builder()
    try:
        data = builder.build(root, ())
    except _TooBig as err:
        raise YamlSyntaxError(err.problem) from None
    source_map = SourceMap(
        values=builder.values, keys=builder.keys, order=builder.order
    )
    return YamlDocument(
        data=data, source_map=source_map, problems=tuple(builder.problems)
    )


def _syntax_problem(err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark or err.context_mark
    what = err.problem or err.context or "not valid YAML"
    if err.context and err.problem:
        what = f"{err.problem} ({err.context})"
    fix = next(
        (tip for needle, tip in _SYNTAX_TIPS if needle in what),
        "check the indentation and quoting on this line and the one before",
    )
    return Problem(
        path=None,
        message=f"invalid YAML: {what}",
        fix=fix,
        position=_position(mark) if mark else Position(1, 1),
    )


def _special_character(err: yaml.reader.ReaderError, text: str) -> Problem:
    """A character YAML does not allow in its text (a control character)."""
    code = err.character if isinstance(err.character, int) else ord(err.character)
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return Problem(
        path=None,
        message=f"invalid YAML: the special character U+{code:04X} is not allowed",
        fix=f'delete it, or write it as "{escape}" in a double-quoted string',
        position=_offset_position(text, err.position),
    )


def _offset_position(text: str, offset: int) -> Position:
    """The line and column of ``text[offset]``, counting line breaks as YAML does."""
    before = text[:offset].replace("\r\n", "\n")
    for brk in ("\r", "\x85", "\u2028", "\u2029"):
        before = before.replace(brk, "\n")
    line = before.count("\n")
    return Position(line + 1, len(before) - before.rfind("\n"))


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _deep(position: Position) -> Problem:
    return Problem(
        path=None,
        message=f"lists and mappings nest deeper than {MAX_DEPTH} levels",
        fix="flatten the structure; no scenario or pack needs this depth",
        position=position,
    )


class _TooBig(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _unreadable_reason(err: Exception, tag: str) -> str:
    """Why PyYAML could not build a scalar, without its marks and internals."""
    if isinstance(err, yaml.MarkedYAMLError):
        return str(err.problem)
    if isinstance(err, ValueError | OverflowError):
        return str(err)
    return f"not a valid {tag.replace('tag:yaml.org,2002:', '!!')}"


class _DepthLimit:
    """Composes no deeper than :data:`MAX_DEPTH` (the root counts as depth 1
    here): PyYAML composes recursively, and its scanner slows down with every
    open flow collection, so a file of ``[[[[...`` is stopped at the first one
    too deep instead of running into a recursion error seconds later."""

    _depth = 0

    # ``anchor`` is the anchor's name or None (types-PyYAML says otherwise)
    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        self._enter()
        try:
            return super().compose_sequence_node(anchor)  # type: ignore[misc, no-any-return]
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        self._enter()
        try:
            return super().compose_mapping_node(anchor)  # type: ignore[misc, no-any-return]
        finally:
            self._depth -= 1

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH + 1:
            event = self.peek_event()  # type: ignore[attr-defined]
            raise _TooBig(_deep(_position(event.start_mark)))


class _DepthLimitedLoader(_DepthLimit, yaml.SafeLoader):
    """The pure-Python reader, scanner and parser; the reference for messages."""


def _c_event_loader() -> type | None:
    """libyaml's parser for the events, PyYAML's composer (with the depth limit)
    for the nodes: the C composer recurses in C, past any limit of ours."""
    if not yaml.__with_libyaml__:
        return None
    from yaml._yaml import CParser as parser

    class CEventLoader(_DepthLimit, Composer, Resolver, parser):
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)

    return CEventLoader


_CEventLoader = _c_event_loader()
#: The loaders :func:`read_yaml` tries, fastest first; the last one's errors teach.
_LOADERS: tuple[type, ...] = (
    (_DepthLimitedLoader,)
    if _CEventLoader is None
    else (_CEventLoader, _DepthLimitedLoader)
)


class _Builder:
    def __init__(self) -> None:
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.order: dict[JsonPath, int] = {}
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()
        self._active: set[int] = set()

    def build(self, node: Node, path: JsonPath) -> Any:
        at = self.values[path] = _position(node.start_mark)
        self.order[path] = len(self.order)
        if len(self.order) > MAX_VALUES:
            raise _TooBig(
                Problem(
                    path=None,
                    message=f"the file holds more than {MAX_VALUES:,} values once its"
                    " aliases are expanded",
                    fix="write the values out instead of repeating aliases (*name)"
                    " of aliases",
                    position=at,
                )
            )
        if len(path) > MAX_DEPTH:
            raise _TooBig(_deep(at))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._problem(path, "an alias refers to itself", "remove the recursion")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [
                    self.build(item, (*path, i)) for i, item in enumerate(node.value)
                ]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._active.discard(id(node))
        return None

    def _scalar(self, node: ScalarNode, path: JsonPath) -> Any:
        number = node.tag.endswith((":int", ":float"))
        digits = sum(c.isdigit() for c in node.value) if number else 0
        if digits > MAX_DIGITS:
            self._problem(
                path,
                f"a number of {digits:,} digits",
                f"write at most {MAX_DIGITS} digits, or quote it to make it text",
            )
            return None
        try:
            return self._constructor.construct_object(node)
        except Exception as err:  # PyYAML's constructors raise
            # ValueError (2026-02-30), AttributeError (!!timestamp x) and others
            reason = _unreadable_reason(err, node.tag)
            self._problem(
                path,
                f"cannot read value {short(node.value)} ({reason})",
                "remove the tag or quote the value",
            )
            return node.value

    def _mapping(self, node: MappingNode, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._problem(
                    path, "merge keys ('<<') are not supported", "write the keys out"
                )
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(
                    path,
                    "a key must be a plain name, not a list or mapping",
                    "write the key as a plain name",
                )
                continue
            key = str(key_node.value)
            at = _position(key_node.start_mark)
            if key in result:
                first = self.keys[(*path, key)]
                self.problems.append(
                    Problem(
                        path=path,
                        key=key,
                        message=f"duplicate key {key!r}",
                        fix=f"{key!r} is already set on line {first.line};"
                        " keep one of them",
                        position=at,
                    )
                )
                continue
            self.keys[(*path, key)] = at
            result[key] = self.build(value_node, (*path, key))
        return result

    def _problem(self, path: JsonPath, message: str, fix: str) -> None:
        self.problems.append(Problem(path=path, message=message, fix=fix))
