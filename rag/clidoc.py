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
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        if command is None:
            continue
        sub = click.Context(command, info_name=f"rag {name}", parent=ctx, terminal_width=100)
        out += ["", f"## rag {name}", "", "```", command.get_help(sub), "```"]
        if isinstance(command, click.Group):
            for child in command.list_commands(sub):
                cmd = command.get_command(sub, child)
                if cmd is None:
                    continue
                leaf = click.Context(cmd, info_name=f"rag {name} {child}", parent=sub, terminal_width=100)
                out += ["", f"### rag {name} {child}", "", "```", cmd.get_help(leaf), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
