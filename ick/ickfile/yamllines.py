"""YAML as .ick files use it: YAML 1.2 booleans, and the line of every key and list item."""

from __future__ import annotations

import re

import yaml

from ick.runners.rules import show_value

Path = tuple[object, ...]
"""Where a value is in a document: keys and 0-based list indexes from the top."""

_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: `on:` (a notify key), `yes` and `no` stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _node_lines(
    loader: yaml.SafeLoader, root: yaml.Node
) -> tuple[dict[Path, int], list[tuple[int, str]]]:
    """The line of every key and list item, by path; and each key given twice in one mapping.

    A node shared through aliases is walked once (so a file cannot make us walk exponentially
    many): a problem inside a later use of it is placed at the key holding it.
    """
    lines: dict[Path, int] = {}
    twice: list[tuple[int, str]] = []
    walked: set[int] = set()
    stack: list[tuple[yaml.Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            seen: set[object] = set()
            for key_node, value_node in node.value:
                # Merged keys (<<) may be overridden; they are not given twice.
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = loader.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in seen:
                    twice.append((line, f"key {show_value(key)} given twice in one mapping"))
                seen.add(key)
                lines[(*path, key)] = line
                stack.append((value_node, (*path, key)))
    return lines, twice


def _parse(text: str) -> tuple[object, dict[Path, int], list[tuple[int, str]]]:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, {}, []
        lines, twice = _node_lines(loader, root)
        return loader.construct_document(root), lines, twice
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[int, str]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "cannot parse"
        if exc.problem and exc.context and exc.context_mark:
            what += f" ({exc.context} at line {exc.context_mark.line + 1})"
        return line, f"invalid yaml: {what}"
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return line, f"invalid yaml: {exc.reason} (character #x{exc.character:04x})"
    return 1, f"invalid yaml: {exc}"


class YamlProblem(Exception):
    """The text is not YAML; `line` and `message` say where and why."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_with_lines(text: str) -> tuple[object, dict[Path, int], list[tuple[int, str]]]:
    """The document, the line of each path in it, and each key given twice (line, message)."""
    try:
        return _parse(text)
    except yaml.YAMLError as exc:
        raise YamlProblem(*_yaml_problem(exc, text)) from None
