"""The command-line appendix documents every option the parser accepts (no silent drift)."""

from pathlib import Path

from cyclegan_lesson.tools import cli

ROOT = Path(__file__).resolve().parents[1]


def _subcommands(parser):
    for action in parser._actions:  # argparse keeps subparsers here
        if getattr(action, "choices", None) and isinstance(action.choices, dict):
            yield from action.choices.items()


def test_every_cli_option_is_documented_in_the_appendix():
    text = (ROOT / "book" / "appendix_cli.md").read_text()
    parser = cli.build_parser()
    commands = dict(_subcommands(parser))
    assert {"train", "translate", "bench"} <= set(commands)
    missing = []
    for name, sub in commands.items():
        assert f"## `{name}`" in text, f"the appendix has no section for `{name}`"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help" and f"`{flag}`" not in text:
                    missing.append(f"{name} {flag}")
    assert not missing, f"options missing from book/appendix_cli.md: {missing}"


def _has_default(action) -> bool:
    import argparse

    return action.default not in (None, False, argparse.SUPPRESS)


def test_every_option_help_shows_its_default():
    """``COMMAND --help`` shows the default of every option that has one (the appendix sends
    readers there for them)."""
    import re

    parser = cli.build_parser()
    missing = []
    for name, sub in _subcommands(parser):
        shown = re.sub(r"\s+", " ", sub.format_help())  # what `COMMAND --help` prints
        for action in sub._actions:
            if not action.option_strings or not _has_default(action):
                continue
            helped = re.sub(r"\s+", " ", cli.HelpFormatter(name)._expand_help(action))
            if "default" not in helped or str(action.default) not in helped \
                    or helped not in shown:
                missing.append(f"{name} {action.option_strings[-1]} (default {action.default})")
    assert not missing, f"--help does not show these defaults: {missing}"


def test_the_appendix_tables_give_the_defaults_help_shows():
    """Each option row of book/appendix_cli.md has a default column: the parser's default for
    an option that has one (as `--help` prints it), "off" for a flag, "required" for a required
    option. Cells of a row naming several options list one default per option, split by ';'."""
    import re

    text = (ROOT / "book" / "appendix_cli.md").read_text()
    commands = dict(_subcommands(cli.build_parser()))
    wrong = []
    for name, sub in commands.items():
        section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        by_flag = {flag: a for a in sub._actions for flag in a.option_strings}
        rows = [line for line in section.splitlines() if line.startswith("| `--")]
        assert rows, f"no option table in the `{name}` section"
        for row in rows:
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) >= 3, f"{name}: row without a default column: {row[:60]}"
            actions = []
            for flag in re.findall(r"`(--[a-z0-9-]+)`", cells[0]):
                assert flag in by_flag, f"{name}: the appendix names {flag}, which is no option"
                if by_flag[flag] not in actions:
                    actions.append(by_flag[flag])
            parts = [p.strip() for p in cells[1].split(";")]
            if len(parts) != len(actions):
                parts = [cells[1]] * len(actions)
            for action, part in zip(actions, parts):
                flag = action.option_strings[-1]
                if action.required:
                    expected = "required"
                elif action.default is False:
                    expected = "off"
                elif _has_default(action):
                    expected = str(action.default)
                else:
                    if not part:
                        wrong.append(f"{name} {flag}: no default given")
                    continue
                if part != expected:
                    wrong.append(f"{name} {flag}: appendix {part!r}, parser {expected!r}")
    assert not wrong, f"book/appendix_cli.md disagrees with the parser: {wrong}"
