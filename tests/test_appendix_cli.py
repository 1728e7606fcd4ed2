"""The command-line appendix documents every option the parser accepts (no silent drift)."""

from pathlib import Path

from cyclegan_lesson import cli

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
