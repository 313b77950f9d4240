"""Reading the report as a person reads it: the tables' text, and how much of a chart is drawn."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from PIL import Image, ImageChops

# A pixel is coloured when its channels differ by more than this: axes, grid lines and text
# are grey or black, so only drawn marks (bars, lines, dots) count (DESIGN.md's blank check).
COLOURED = 40


def coloured_share(png: bytes) -> float:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    red, green, blue = image.split()
    high = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    low = ImageChops.darker(ImageChops.darker(red, green), blue)
    histogram = ImageChops.subtract(high, low).histogram()
    return sum(histogram[COLOURED + 1 :]) / (image.width * image.height)


class Tables(HTMLParser):
    """Every `<table data-panel=...>` as its column names and rows of cell text, and every
    stat tile's shown text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, tuple[list[str], list[list[str]]]] = {}
        self.stats: dict[str, str] = {}
        self._table: str | None = None
        self._stat: str | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        panel = attributes.get("data-panel")
        if tag == "table" and panel:
            self._table = panel
            self.tables[panel] = ([], [])
        elif tag == "th" and self._table:
            self.tables[self._table][0].append(attributes.get("data-column") or "")
        elif tag == "tr" and self._table:
            self.tables[self._table][1].append([])
        elif tag == "td" and self._table:
            self._cell = []
        elif tag == "div" and attributes.get("data-stat"):
            self._stat = attributes["data-stat"]
        elif tag == "div" and self._stat and attributes.get("class") == "value":
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._table and self._cell is not None:
            self.tables[self._table][1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "div" and self._stat and self._cell is not None:
            self.stats[self._stat] = "".join(self._cell)
            self._stat, self._cell = None, None
        elif tag == "table":
            self._table = None

    def rows(self, panel: str) -> list[dict[str, str]]:
        columns, rows = self.tables[panel]
        return [dict(zip(columns, row, strict=True)) for row in rows if row]


def number(text: str) -> float:
    """`1,234` -> 1234; `2.5%` -> 0.025; `133.1 ms` -> 133.1."""
    text = text.replace(",", "").replace(" ms", "").strip()
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)
