"""cyclegan_lesson.book.show: the source a chapter displays is the package's, minus docstring and
input checks; tables and the compact layer table."""

from __future__ import annotations

import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.book import show
from cyclegan_lesson.nn import losses


def _check_count(n):
    return int(n)


def _example(x, n: int = 2):
    """A docstring that must not be shown."""
    n = _check_count(n)
    size = _check_count(len(x))
    if n < 0:
        raise ValueError("n must be >= 0")
    assert x is not None
    # the idea: repeat
    y = [x] * n
    if n == 0:
        return []
    return y


def test_idea_lines_drop_docstring_and_checks_keep_comments_and_logic():
    text = show.idea_lines(_example)
    assert "docstring" not in text and "raise" not in text and "assert" not in text
    assert "# the idea: repeat" in text and "y = [x] * n" in text
    assert "if n == 0:" in text and "return []" in text     # logic, not a check, is kept
    assert "n = _check_count(n)" not in text                # re-binding a checked argument
    assert "size = _check_count(len(x))" in text            # defines a name: kept
    assert "checks omitted" in text
    full = show.idea_lines(_example, keep_checks=True)
    assert "raise ValueError" in full and "docstring" not in full


def test_source_returns_the_shown_text_of_the_package_function():
    text = show.source(losses.bce_loss)
    assert text.startswith("def bce_loss(") and "softplus" in text and '"""' not in text


def test_source_rejects_objects_without_python_source():
    with pytest.raises(TypeError, match="no Python source"):
        show.source(len)


def test_tables_and_layer_table():
    import keras

    assert show.markdown_table([[1, 2]], ["a", "b"]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 headers"):
        show.markdown_table([[1]], ["a", "b"])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d1"),
                              keras.layers.Dense(1, name="d2")])
    rows = show.layer_rows(model)
    assert rows == [["d1", "Dense", "(3,)", "15"], ["d2", "Dense", "(1,)", "4"]]
    text = show.layers(model)
    assert "**19**" in text
