"""A paper as an editable Word document (.docx), written with python-docx.

The layout stays plain on purpose: the seller edits and sends it. A line starting with "- " becomes
a bullet, any other line a paragraph; "[À COMPLÉTER ...]" markers are highlighted so that none is
sent by mistake. Characters XML cannot hold (control characters pasted with a notice) are dropped.
"""

from __future__ import annotations

import io
import re

_MARKER = re.compile(r"(\[[^\]]*\])")
# What XML 1.0 (hence Word) cannot hold: control characters, surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def docx_bytes(title: str, text: str) -> bytes:
    """The document: its title as a heading, then one paragraph per line of `text`."""
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX

    document = Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for line in _NOT_XML.sub("", text).splitlines():
        bullet = line.startswith("- ")
        paragraph = document.add_paragraph(style="List Bullet" if bullet else None)
        for part in _MARKER.split(line[2:] if bullet else line):
            if not part:
                continue
            run = paragraph.add_run(part)
            if _MARKER.fullmatch(part):
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_text(data: bytes) -> str:
    """The text of a .docx written by `docx_bytes` (for tests and the console), one line per
    paragraph, bullets back as "- "."""
    from docx import Document

    document = Document(io.BytesIO(data))
    lines = []
    for paragraph in document.paragraphs[1:]:  # the first is the title heading
        bullet = paragraph.style is not None and paragraph.style.name == "List Bullet"
        lines.append(f"- {paragraph.text}" if bullet else paragraph.text)
    return "\n".join(lines)
