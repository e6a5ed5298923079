"""What a browser would send for a page's form, so admin tests submit exactly what the page shows.

Tests that build the POST data by hand can post a field the page never rendered, or miss one it did; a form that
drops part of what it was given (a requirement of the need, say) then passes. ``submitted(html)`` reads the page
instead: text, number and hidden inputs with their values, checked boxes, selected options and textareas.
"""

from __future__ import annotations

from html.parser import HTMLParser


class FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str | None, dict[str, list[str]]]] = []  # id, values
        self.in_form = False
        self.values: dict[str, list[str]] = {}
        self.select: tuple[str, bool] | None = None  # name, multiple
        self.select_options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.in_form, self.values = True, {}
            self.forms.append((attributes.get("id"), self.values))
        if not self.in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name and not attributes.get("disabled"):
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.add(name, attributes.get("value", "on"))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.add(name, attributes.get("value", ""))
        elif tag == "select" and name:
            self.select, self.select_options = (name, "multiple" in attributes), []
        elif tag == "option" and self.select:
            self.select_options.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select" and self.select:
            name, multiple = self.select
            chosen = [value for value, selected in self.select_options if selected]
            if not multiple and not chosen and self.select_options:
                chosen = [self.select_options[0][0]]  # a browser sends the first option when none is selected
            for value in chosen if multiple else chosen[-1:]:
                self.add(name, value)
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.add(self.textarea, "".join(self.text).removeprefix("\n"))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)


def submitted(html: str | bytes, *, having: str, **changes) -> dict[str, list[str] | str]:
    """The fields of the page's form that has a field named ``having``, as a browser submits them, with
    ``changes`` typed over them (a submit button's name and value, when it has one)."""
    reader = FormReader()
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    forms = [values for _, values in reader.forms if having in values]
    assert len(forms) == 1, f"{len(forms)} forms with a field {having} on the page"
    return {**forms[0], **changes}
