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
