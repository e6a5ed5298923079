"""What the Content-Security-Policy (config/csp.py) would refuse in a page: inline scripts and styles."""

from html.parser import HTMLParser


class InlineCode(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        data_block = names.get("type") not in (None, "", "text/javascript", "module")  # json_script: not run
        if tag == "script" and not names.get("src") and not data_block:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        if "style" in names:
            self.found.append(f"style attribute on <{tag}> at line {self.getpos()[0]}")
        self.found += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]


def inline_code(response) -> list[str]:
    """Every inline script, <style>, style attribute and event handler attribute in the page."""
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser.found
