#!/usr/bin/env python3
"""Keeps test/clients/RECIPES.md and the code the client tests run the same.

Source files under test/clients/ (and test/shell/clients.sh) mark recipe regions with comment lines
"recipe: NAME" ... "end recipe" (after #, // or --). In RECIPES.md, a line "<!-- recipe: NAME -->"
is followed by a fenced code block that must equal that region, dedented. Prints two TAP lines
("ok - …" / "not ok - …"); --update rewrites the blocks of RECIPES.md from the sources.
"""
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = [HERE, os.path.join(HERE, "..", "shell", "clients.sh")]
BEGIN = re.compile(r"^\s*(?:#|//|--)\s*recipe:\s*(\S+)\s*$")
END = re.compile(r"^\s*(?:#|//|--)\s*end recipe\s*$")
MARK = re.compile(r"^<!-- recipe: (\S+) -->$")


def source_files():
    for root in SOURCES:
        if os.path.isfile(root):
            yield root
            continue
        for directory, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in ("node_modules", "__pycache__")]
            for name in files:
                if name != "RECIPES.md" and name != os.path.basename(__file__):
                    yield os.path.join(directory, name)


def regions():
    found, problems = {}, []
    for path in source_files():
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        name = None
        for number, line in enumerate(lines, 1):
            if BEGIN.match(line):
                if name:
                    problems.append(f"{path}:{number}: recipe {name} is not ended")
                name, start = BEGIN.match(line).group(1), number
            elif END.match(line) and name:
                if name in found:
                    problems.append(f"{path}:{start}: recipe {name} is defined twice")
                found[name] = (textwrap.dedent("\n".join(lines[start:number - 1])), f"{os.path.relpath(path, HERE)}:{start}")
                name = None
        if name:
            problems.append(f"{path}: recipe {name} is not ended")
    return found, problems


def blocks(md_lines):
    """(name, index of the opening fence, index of the closing fence) for each marked block."""
    for i, line in enumerate(md_lines):
        m = MARK.match(line)
        if m:
            opening = i + 1
            closing = next(j for j in range(opening + 1, len(md_lines)) if md_lines[j].startswith("```"))
            yield m.group(1), opening, closing


def main():
    path = os.path.join(HERE, "RECIPES.md")
    with open(path, encoding="utf-8") as f:
        md = f.read().splitlines()
    found, problems = regions()
    if "--update" in sys.argv:
        for name, opening, closing in reversed(list(blocks(md))):
            md[opening + 1:closing] = found[name][0].splitlines()
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(md) + "\n")
        return
    used, differ = [], []
    for name, opening, closing in blocks(md):
        used.append(name)
        text = "\n".join(md[opening + 1:closing])
        if name not in found:
            differ.append(f"block {name} has no tested source")
        elif text != found[name][0]:
            differ.append(f"block {name} differs from the code at {found[name][1]}")
    print(f"{'not ok' if differ else 'ok'} - each of the {len(used)} code blocks of RECIPES.md is the code the tests run")
    for d in differ:
        print(f"#   {d}")
    if differ:
        print("#   test/clients/check_recipes.py --update rewrites the blocks from the sources")
    for name in sorted(set(found) - set(used)):
        problems.append(f"recipe {name} ({found[name][1]}) is not in RECIPES.md")
    for name in sorted({n for n in used if used.count(n) > 1}):
        problems.append(f"RECIPES.md shows recipe {name} more than once")
    print(f"{'not ok' if problems else 'ok'} - every recipe region of the tested code is in RECIPES.md, once")
    for p in problems:
        print(f"#   {p}")

if __name__ == "__main__":
    main()
