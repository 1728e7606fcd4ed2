"""The writing conventions of CONTRIBUTING.md that a test can check, on every chapter's stored
notebook: captioned figures, exercises with hints and folded solutions, no raw training logs, no
``summary()`` dumps, no long text outputs, and no function shown in two chapters."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

CAPTION = re.compile(r"^\s*\*\*Figure \d+\.\*\*")
# Keras progress bars and per-epoch lines, e.g. "Epoch 3/16" or "400/400 ━━━━ 12s - loss: 0.3"
TRAINING_LOG = re.compile(r"^\s*(Epoch \d+/\d+|\d+/\d+ .*(━|=).*|.*\d+(ms|s)/step\b.*)$")
SUMMARY_DUMP = re.compile(r"Total params:|Trainable params:|Layer \(type\)")
MAX_TEXT_LINES = 30


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _texts(cell):
    """Every text an output of a code cell carries (streams, plain text and Markdown)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            yield out.get("text", "") if isinstance(out.get("text"), str) else "".join(out["text"])
        for key in ("text/plain", "text/markdown"):
            value = out.get("data", {}).get(key)
            if value is not None:
                yield value if isinstance(value, str) else "".join(value)


def _draws_figure(cell) -> bool:
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def _cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption(path):
    cells = _cells(path)
    missing = [i for i, cell in enumerate(cells)
               if cell.cell_type == "code" and _draws_figure(cell)
               and not (i + 1 < len(cells) and cells[i + 1].cell_type == "markdown"
                        and CAPTION.match(_source(cells[i + 1])))]
    assert not missing, (f"cells {missing} draw a figure but the next cell is not a caption "
                         "starting with '**Figure N.**' (CONTRIBUTING.md)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_numbered_in_order(path):
    numbers = [int(re.match(r"\s*\*\*Figure (\d+)\.", _source(c)).group(1))
               for c in _cells(path) if c.cell_type == "markdown" and CAPTION.match(_source(c))]
    assert numbers == list(range(1, len(numbers) + 1)), numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_with_hints_and_folded_solutions(path):
    cells = _cells(path)
    starts = [i for i, c in enumerate(cells)
              if c.cell_type == "markdown" and re.search(r"^## Exercises\s*$", _source(c), re.M)]
    assert len(starts) == 1, "one '## Exercises' section at the end of the chapter"
    text = "\n".join(_source(c) for c in cells[starts[0]:] if c.cell_type == "markdown")
    exercises = re.findall(r"^\d+\. \*\*", text, re.M)
    hints = re.findall(r"\*Hint:\*", text)
    solutions = re.findall(r"^\s*```\{dropdown\} Solution", text, re.M)
    assert len(exercises) >= 3, "at least three exercises, numbered '1. **...**'"
    assert len(hints) >= len(exercises), "every exercise has a '*Hint:*'"
    assert len(solutions) >= len(exercises), "every exercise has a ```{dropdown} Solution"
    later_code = [c for c in cells[starts[0]:] if c.cell_type == "code"]
    assert all("clock.report()" in _source(c) for c in later_code), \
        "only the closing clock.report() comes after the exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_training_logs_summary_dumps_or_long_text(path):
    problems = []
    for i, cell in enumerate(_cells(path)):
        if cell.cell_type != "code":
            continue
        for text in _texts(cell):
            if SUMMARY_DUMP.search(text):
                problems.append(f"cell {i}: a model.summary() dump (use show.layers)")
            log_lines = [ln for ln in text.splitlines() if TRAINING_LOG.match(ln)]
            if len(log_lines) > 1:
                problems.append(f"cell {i}: {len(log_lines)} lines of training log "
                                f"(e.g. {log_lines[0].strip()[:60]!r}); plot the history")
            listing = text.lstrip().startswith("```")   # show.source: the idea, kept whole
            if text.count("\n") > MAX_TEXT_LINES and "|---" not in text and not listing:
                problems.append(f"cell {i}: {text.count(chr(10))} lines of text output")
    assert not problems, "; ".join(problems)


def _shown_functions(path) -> set[tuple[str, str]]:
    """The package functions a chapter displays, as ``(name, listing)``: each ``def name(`` /
    ``class name`` at the start of a line of a displayed Python block, with its text up to the
    next one. Two methods of different classes (``ConditionalGAN.train_step`` and
    ``Pix2Pix.train_step``) share a name but not a listing."""
    shown = set()
    for cell in _cells(path):
        if cell.cell_type != "code":
            continue
        for text in _texts(cell):
            for block in re.findall(r"```python\n(.*?)```", text, re.S):
                parts = re.split(r"^(?=(?:def|class) \w+)", block, flags=re.M)
                for part in parts:
                    name = re.match(r"(?:def|class) (\w+)", part)
                    if name:
                        shown.add((name.group(1), part.strip()))
    return shown


def test_no_function_is_shown_in_two_chapters():
    seen = defaultdict(list)
    for path in NOTEBOOKS:
        for name, listing in _shown_functions(path):
            seen[(name, listing)].append(path.name)
    twice = {name: where for (name, _), where in seen.items() if len(where) > 1}
    assert not twice, f"shown in more than one chapter: {twice}"
