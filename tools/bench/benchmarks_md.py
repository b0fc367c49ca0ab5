"""BENCHMARKS.md sections, shared by the benchmark scripts: one section per benchmark, replaced
in place (or appended) when its script runs again."""
import pathlib
import re


def write_section(out, title, text):
    """Puts `text` (which starts with `title`, a `## …` heading) in place of that section of `out`."""
    path = pathlib.Path(out)
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    if title in doc:
        start = doc.index(title)
        rest = doc[start + len(title):]
        m = re.search(r"\n## ", rest)
        end = start + len(title) + (m.start() + 1 if m else len(rest))
        doc = doc[:start] + text + ("\n" if m else "") + doc[end:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc)
