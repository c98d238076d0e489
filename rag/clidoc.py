"""Render the CLI reference (docs/cli.md) from the commands' own --help texts.

    python -m rag.clidoc > docs/cli.md

A test regenerates it and compares, so the reference cannot drift from the code.
"""

from __future__ import annotations

import click

from rag.cli import main


def render() -> str:
    ctx = click.Context(main, info_name="rag", terminal_width=100)
    out = ["# CLI reference", "", "Generated from `--help` by `python -m rag.clidoc > docs/cli.md`; "
           "a test checks it is current.", "", "```", main.get_help(ctx), "```"]
    _subcommands(main, ctx, "#", out)
    return "\n".join(out) + "\n"


def _subcommands(group: click.Group, ctx: click.Context, level: str, out: list[str]) -> None:
    """Each command of `group`, then (one heading level deeper) its own subcommands."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        sub = click.Context(command, info_name=f"{ctx.info_name} {name}", parent=ctx, terminal_width=100)
        out += ["", f"{level}# {sub.info_name}", "", "```", command.get_help(sub), "```"]
        if isinstance(command, click.Group):
            _subcommands(command, sub, level + "#", out)


if __name__ == "__main__":
    print(render(), end="")
