"""Every explicit audit event the code writes has a name people read, so the audit log's filter offers it."""

import re
from pathlib import Path

from units.audit_events import EVENT_NAMES, event_name

ROOT = Path(__file__).resolve().parents[2]
# The event of an audit_event(event=...) call, and of the callout closing helper, which takes it as its last
# argument: every quoted word in the expression ("callout_stand_down" if stand_down else "callout_update").
WRITTEN = re.compile(r"""event=([^,)]+)|(?:close\(callout, [^)]*)("callout_\w+")\)""")


def events_in_the_code() -> set[str]:
    found = set()
    apps = [folder for folder in ROOT.iterdir() if (folder / "apps.py").exists() or folder.name == "config"]
    for path in (path for folder in apps for path in folder.rglob("*.py")):
        for match in WRITTEN.finditer(path.read_text()):
            found |= set(re.findall(r'"([a-z]+(?:_[a-z]+)*)"', "".join(part or "" for part in match.groups())))
    return found


def test_every_event_written_has_a_name():
    written = events_in_the_code()

    assert {"login", "callout_launched", "callout_cancelled", "callout_closed", "callout_stand_down"} <= written
    assert sorted(written - set(EVENT_NAMES)) == []


def test_an_event_without_a_name_still_reads_as_words():
    assert event_name("callout_escalated") == "Escalated"
    assert event_name("callout_reply_unread") == "Callout reply unread"
