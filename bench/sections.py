"""docs/benchmarks.md is written by several benchmarks, each owning one "## " section of it."""

from pathlib import Path


def replace_section(path: Path, heading: str, text: str) -> None:
    """Put ``text`` (which starts with ``heading``) in place of that section, or at the end if it is new,
    keeping every other section as it was."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n"
    before, found, rest = existing.partition(f"\n{heading}")
    after = rest.partition("\n## ")[2] if found else ""
    kept_after = f"\n## {after}" if after else ""
    path.write_text(f"{before.rstrip()}\n\n{text.rstrip()}\n{kept_after}")
