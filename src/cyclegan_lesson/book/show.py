"""What the chapters display: the package's own source (the lines that carry the idea), tables and
compact layer tables, as Markdown in a notebook (plain text elsewhere).

A chapter shows the *single* implementation of an idea from the package, never a second copy:

    from cyclegan_lesson.book import show
    from cyclegan_lesson.nn import losses
    show.source(losses.cycle_loss)          # body without docstring and argument checks
    show.table([["a", 1]], ["name", "value"])
    show.layers(model)                       # one row per layer: name, output shape, parameters

:func:`idea_lines` is the filter behind :func:`source`: it drops the docstring and the input
validation (``if <bad input>: raise ...`` blocks, ``assert`` statements and calls of
``check_*`` / ``_check*`` validators), keeps comments, and
marks each cut with ``# ... (checks omitted)`` so a reader knows the full function does more.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Sequence

__all__ = ["idea_lines", "layer_rows", "layers", "markdown_table", "source", "table"]

_OMITTED = "# ... (input checks omitted)"


def _is_check_call(value) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith(("_check", "check_"))


def _is_check(node: ast.stmt) -> bool:
    """``assert ...``, an ``if`` whose body only raises, or a call of a ``check_*`` /
    ``_check*`` validator (input validation)."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Expr) and _is_check_call(node.value):
        return True
    if isinstance(node, ast.Assign) and _is_check_call(node.value):
        # ``n = _check_int(n, ...)`` re-binds a checked argument: a check. ``size = _check(x)``
        # defines a new name the rest of the body uses: kept.
        args = {a.id for a in node.value.args if isinstance(a, ast.Name)}
        targets = [t for t in node.targets if isinstance(t, ast.Name)]
        return len(targets) == len(node.targets) and all(t.id in args for t in targets)
    return (isinstance(node, ast.If) and not node.orelse
            and all(isinstance(n, ast.Raise) or _is_check(n) for n in node.body))


def _docstring_node(node) -> ast.stmt | None:
    body = getattr(node, "body", [])
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return body[0]
    return None


def idea_lines(obj, keep_checks: bool = False) -> str:
    """The source of a function, method or class without docstrings and, unless ``keep_checks``,
    without its input checks; comments and blank-line structure are kept.

    Raises:
        TypeError: ``obj`` has no Python source (a builtin or a C extension).
    """
    try:
        text = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as exc:
        raise TypeError(f"show.source: no Python source for {obj!r} ({exc}); pass a function, "
                        "method or class defined in a .py file.") from None
    tree = ast.parse(text)
    drop: list[tuple[int, int, bool]] = []   # (first line, last line, is a check)
    for node in ast.walk(tree):
        doc = _docstring_node(node) if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
        if doc is not None:
            drop.append((doc.lineno, doc.end_lineno, False))
        if not keep_checks:
            body = getattr(node, "body", None)
            for child in body if isinstance(body, list) else []:
                if isinstance(child, ast.stmt) and _is_check(child):
                    drop.append((child.lineno, child.end_lineno, True))
    lines = text.splitlines()
    keep = [True] * len(lines)
    marker_at: dict[int, str] = {}
    for first, last, is_check in sorted(drop):
        if all(not keep[i] for i in range(first - 1, last)):
            continue
        for i in range(first - 1, last):
            keep[i] = False
        if is_check and (first - 2) not in marker_at:
            indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
            marker_at[first - 1] = indent + _OMITTED
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in marker_at and (not out or out[-1] != marker_at[i]):
            out.append(marker_at[i])
        if keep[i]:
            out.append(line)
    # collapse runs of omission markers and blank lines left behind
    cleaned: list[str] = []
    for line in out:
        if cleaned and line.strip() == _OMITTED and cleaned[-1].strip() == _OMITTED:
            continue
        if cleaned and not line.strip() and not cleaned[-1].strip():
            continue
        cleaned.append(line)
    return "\n".join(cleaned).strip("\n")


def _display_markdown(text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(text))


def source(*objects, keep_checks: bool = False) -> str:
    """Display the package's source of ``objects`` (functions, methods, classes) as one Python
    code block, filtered by :func:`idea_lines`; return the text shown."""
    if not objects:
        raise TypeError("show.source: pass at least one function, method or class.")
    text = "\n\n\n".join(idea_lines(obj, keep_checks=keep_checks) for obj in objects)
    _display_markdown(f"```python\n{text}\n```")
    return text


def markdown_table(rows: Sequence[Sequence], headers: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (each as long as ``headers``)."""
    for i, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"show.table: row {i} has {len(row)} cells for {len(headers)} "
                             "headers.")
    lines = ["| " + " | ".join(str(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table(rows: Sequence[Sequence], headers: Sequence[str]) -> str:
    """Display ``rows`` as a Markdown table (plain text outside a notebook); return it."""
    text = markdown_table(rows, headers)
    _display_markdown(text)
    return text


def layer_rows(model) -> list[list]:
    """``[name, class, output shape, parameters]`` for every layer of a Keras model (the compact
    alternative to ``model.summary()``), the input layers left out."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            shape = tuple(layer.output.shape)[1:]
        except (AttributeError, ValueError):
            shape = "?"
        rows.append([layer.name, type(layer).__name__, str(shape).replace(" ", ""),
                     f"{layer.count_params():,}"])
    return rows


def layers(model, limit: int | None = None) -> str:
    """Display :func:`layer_rows` as a table, with a last row for the total parameter count;
    ``limit`` keeps the first and last ``limit // 2`` layers and says how many were skipped."""
    rows = layer_rows(model)
    if limit is not None and len(rows) > limit:
        head, tail = rows[: limit // 2], rows[-(limit - limit // 2):]
        rows = head + [["...", f"{len(rows) - len(head) - len(tail)} more layers", "", ""]] + tail
    rows.append(["**total**", "", "", f"**{model.count_params():,}**"])
    return table(rows, ["layer", "type", "output shape", "parameters"])
